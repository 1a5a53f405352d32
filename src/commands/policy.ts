import { Args, Flags } from '@oclif/core';
import { ANSWERED, type Answer, clusterFlags, KnetCommand } from '../cli/base.js';

export default class Policy extends KnetCommand {
  static override summary =
    'NetworkPolicy verdict for a connection, with the policy and rule that decided it.';
  static override description =
    'With SOURCE and DESTINATION (pods or ip/ADDR): whether egress at the source and ingress at the destination ' +
    'allow the connection on --port/--protocol, which policies isolate each pod and which rule allowed it (exit 1 ' +
    'when denied). With one pod: the policies that select it, per direction, in plain words. With --matrix: who ' +
    'can reach whom among the pods of a namespace. Evaluates networking.k8s.io/v1 NetworkPolicy exactly as the ' +
    'API documents it and the upstream e2e tests check it; notes say where CNIs differ.';
  static override examples = [
    '<%= config.bin %> policy pod/shop/checkout-ghjktxjlh-sr94d pod/payments/payments-api-gdl8tdvf4-lz98k --port 8443 --snapshot demo',
    '<%= config.bin %> policy deploy/frontend deploy/payments/payments-api:https -n shop --snapshot demo',
    '<%= config.bin %> policy ip/203.0.113.7 pod/shop/frontend-9zd29xl7v-27thn --port 8080 -o json --snapshot demo',
    '<%= config.bin %> policy pod/payments/payments-api-gdl8tdvf4-lz98k --snapshot demo',
    '<%= config.bin %> policy --matrix -n payments --port 8443 --snapshot demo',
  ];
  static override args = {
    source: Args.string({ description: 'pod/[NS/]NAME or ip/ADDR (alone: the pod whose policies to show)' }),
    destination: Args.string({ description: 'pod/[NS/]NAME[:PORT] or ip/ADDR[:PORT]' }),
  };
  static override flags = {
    ...clusterFlags,
    port: Flags.string({
      description: 'destination port: a number, or a container port name of the destination pod',
      helpValue: 'PORT',
    }),
    protocol: Flags.string({
      description: "protocol (default: TCP, or the named port's)",
      options: ['tcp', 'udp', 'sctp'],
    }),
    matrix: Flags.boolean({
      description: "who can reach whom among the namespace's pods (-n); every declared port unless --port",
    }),
  };

  protected override async answer(): Promise<Answer> {
    const { args, flags } = await this.parse(Policy);
    this.setup(flags);
    const format = this.outputFormat(flags);
    const { checkPolicyRequest, answerPolicy } = await import('../analyses/policy/request.js');
    const request = { ...args, port: flags.port, protocol: flags.protocol, matrix: flags.matrix };
    checkPolicyRequest(request);
    const cluster = await this.loadCluster(
      flags,
      ['namespaces', 'nodes', 'pods', 'services', 'networkpolicies', 'daemonsets'],
      { targets: [args.source ?? '', args.destination ?? ''] },
    );
    const a = answerPolicy(cluster.model, request, cluster, (t) => this.note(t));
    const { policyOutput } = await import('../render/policy.js');
    const out = policyOutput(a, { wide: format === 'wide' });
    await this.emit(format, out.doc, out.human);
    if (a.kind === 'PolicyMatrix') return ANSWERED;
    if (a.kind === 'PolicySelection') return { findings: a.selection.findings };
    const v = a.verdict;
    const unknown =
      v.verdict === 'unknown'
        ? `verdict unknown: ${v.egress.verdict === 'unknown' ? v.egress.reason : v.ingress.reason}`
        : undefined;
    return { verdicts: [{ broken: v.verdict === 'denied', unknown }] };
  }
}
