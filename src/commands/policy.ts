import { Args, Flags } from '@oclif/core';
import { ANSWERED, type Answer, clusterFlags, KnetCommand } from '../cli/base.js';
import { UserError } from '../core/errors.js';

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
    const { parseTarget } = await import('../core/target-grammar.js');
    const protocolFlag = flags.protocol?.toUpperCase() as 'TCP' | 'UDP' | 'SCTP' | undefined;
    if (flags.matrix) {
      if (args.source)
        throw new UserError('--matrix takes no targets: use knet policy --matrix -n NAMESPACE [--port P]');
      if (flags.port !== undefined && !/^\d+$/.test(flags.port))
        throw new UserError('--matrix needs a numeric --port (named ports differ per pod)');
    } else if (!args.source) {
      throw new UserError(
        'name a pod (knet policy pod/NS/NAME), a connection (knet policy SOURCE DESTINATION --port P) or use --matrix -n NS',
      );
    } else {
      // Syntax errors before the (possibly slow) cluster read.
      parseTarget(args.source, 'default', args.destination ? ['pod', 'ip'] : ['pod']);
      if (args.destination) parseTarget(args.destination, 'default', ['pod', 'ip']);
    }
    const cluster = await this.loadCluster(
      flags,
      ['namespaces', 'nodes', 'pods', 'services', 'networkpolicies', 'daemonsets'],
      { targets: [args.source ?? '', args.destination ?? ''] },
    );
    const model = cluster.model;
    const { document } = await import('../render/document.js');
    const render = await import('../render/policy.js');

    if (flags.matrix) {
      const { policyMatrix } = await import('../analyses/policy/matrix.js');
      const m = policyMatrix(
        model,
        cluster.namespace,
        flags.port === undefined ? undefined : Number(flags.port),
        protocolFlag ?? 'TCP',
      );
      const doc = m;
      await this.emit(format, document('PolicyMatrix', doc), () =>
        render.renderMatrix(doc, { wide: format === 'wide' }),
      );
      return ANSWERED;
    }

    const { resolveEnd, resolvePodTargets } = await import('../analyses/targets.js');
    const resolve = (text: string, kinds: ('pod' | 'ip')[]) => {
      const r = resolvePodTargets(model, parseTarget(text, cluster.namespace, kinds), {
        origin: cluster.origin,
      });
      if (r.note) this.note(r.note);
      return r.targets[0];
    };
    const source = resolve(args.source!, args.destination ? ['pod', 'ip'] : ['pod']);
    const src = resolveEnd(model, source);
    if ('finding' in src) {
      this.notFound(format, src.finding);
    }
    if (!args.destination) {
      if (src.endpoint.kind !== 'pod')
        throw new UserError('one target must be a pod: knet policy pod/NS/NAME');
      const { policiesSelecting } = await import('../analyses/policy/select.js');
      const s = policiesSelecting(model, src.endpoint.pod);
      const doc = s;
      await this.emit(format, document('PolicySelection', doc), () => render.renderSelection(doc));
      return { findings: doc.findings };
    }
    const destination = resolve(args.destination, ['pod', 'ip']);
    const dst = resolveEnd(model, destination);
    if ('finding' in dst) {
      this.notFound(format, dst.finding);
    }
    const { resolvePolicyPort } = await import('../analyses/policy/named-port.js');
    const port = resolvePolicyPort(dst.endpoint, flags.port ?? destination.port, protocolFlag);
    if (typeof port === 'string') throw new UserError(port);
    const { evaluatePolicy } = await import('../analyses/policy/evaluate.js');
    const v = evaluatePolicy(model, {
      source: src.endpoint,
      destination: dst.endpoint,
      port: port.port,
      protocol: port.protocol,
    });
    const doc = v;
    await this.emit(format, document('PolicyVerdict', doc), () =>
      render.renderVerdict(doc, { wide: format === 'wide' }),
    );
    const unknown =
      v.verdict === 'unknown'
        ? `verdict unknown: ${v.egress.verdict === 'unknown' ? v.egress.reason : v.ingress.reason}`
        : undefined;
    return { verdicts: [{ broken: v.verdict === 'denied', unknown }] };
  }

  private notFound(_format: unknown, f: import('../findings/types.js').Finding): never {
    // A target that does not exist: the command cannot answer (exit 2), one line.
    throw new UserError(`${f.message.replace(/\.$/, '')}`);
  }
}
