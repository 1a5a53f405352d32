// The flags of the live additions (cli/live.ts): a module of its own, light to load.
import { Flags } from '@oclif/core';

/** The debug pods' flags, shared by every command that can collect or probe. */
export const debugPodFlags = {
  image: Flags.string({
    description: 'the debug pod image (default: a pinned nicolaka/netshoot)',
    helpValue: 'IMAGE',
  }),
  'debug-namespace': Flags.string({
    description: 'the namespace of the debug pods [default: default]',
    helpValue: 'NS',
  }),
  'node-timeout': Flags.integer({ description: 'seconds allowed per node [default: 120]', min: 5 }),
};

export const collectFlags = {
  'collect-nodes': Flags.boolean({
    description:
      'live: first collect the node files of the nodes that matter through short-lived privileged debug pods, deleted afterwards (docs/live.md, docs/rbac.md)',
  }),
  ...debugPodFlags,
};

export const saveFlag = {
  save: Flags.string({
    description:
      'live: also write the bundle this answer was computed from (a new directory, or FILE.tar.gz)',
    helpValue: 'DIR|FILE.tar.gz',
  }),
};

export const probeFlags = {
  probe: Flags.boolean({
    description:
      "live: after the trace, make real attempts from the source's own network namespace (through a short-lived debug pod on its node) and compare them with the prediction (docs/probe.md)",
  }),
  'probe-count': Flags.integer({
    description: 'attempts per destination, at most 100 [default: 10]',
    dependsOn: ['probe'],
  }),
  'probe-mode': Flags.string({
    description:
      "how the attempts are made: debug-pod (default: a short-lived privileged pod on the source's node enters the source pod's network namespace; deleted afterwards) or ephemeral (an ephemeral debug container added to the source pod, for clusters that forbid privileged pods: Kubernetes cannot remove it, so it stays in the pod spec, stopped, until the pod is deleted)",
    options: ['debug-pod', 'ephemeral'],
    dependsOn: ['probe'],
  }),
  'probe-timeout': Flags.string({
    description: 'the time one attempt may take [default: 2s]',
    helpValue: 'DURATION',
    dependsOn: ['probe'],
  }),
};

/** --nodes A,B: the node names, or undefined when it names none (then every node). */
export function nodeNames(flag: string | undefined): string[] | undefined {
  return flag
    ? flag
        .split(',')
        .map((n) => n.trim())
        .filter(Boolean)
    : undefined;
}
