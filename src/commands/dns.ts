import { Args, Flags } from '@oclif/core';
import type { ReplicaResults } from '../analyses/dns/check.js';
import type { DnsResult, DnsType } from '../analyses/dns/types.js';
import { clusterFlags, KnetCommand } from '../cli/base.js';
import { debugPodFlags, probeFlags } from '../cli/live-flags.js';
import { UserError } from '../core/errors.js';
import type { ClusterModel } from '../model/cluster.js';
import type { QueryOptions } from '../sources/dns/client.js';

export default class Dns extends KnetCommand {
  static override summary = 'What the cluster DNS answers, what it should answer, and the difference.';
  static override description =
    'Computes the answer the Kubernetes DNS specification requires for NAME from the cluster objects; with ' +
    '--server asks that server (UDP with EDNS0, TCP when truncated) and reports every difference. With ' +
    '--from, NAME is expanded with the pod search path (ndots) and each query the resolver sends is shown.';
  static override examples = [
    '<%= config.bin %> dns cart.shop.svc.cluster.local --snapshot demo',
    '<%= config.bin %> dns cart --from pod/shop/frontend-9zd29xl7v-27thn --snapshot demo',
    '<%= config.bin %> dns _http._tcp.cart.shop.svc.cluster.local --type SRV --snapshot demo',
    '<%= config.bin %> dns 10.96.0.10 --type PTR --snapshot demo',
  ];
  static override args = {
    name: Args.string({ description: 'the DNS name (an IP address with --type PTR)', required: true }),
  };
  static override flags = {
    ...clusterFlags,
    type: Flags.string({
      description: 'record type',
      options: ['A', 'AAAA', 'SRV', 'PTR', 'CNAME', 'TXT'],
      default: 'A',
    }),
    server: Flags.string({ description: 'ask this DNS server (IP or IP:PORT)', helpValue: 'IP[:PORT]' }),
    from: Flags.string({
      description: "expand NAME with this pod's resolver search path",
      helpValue: 'pod/[NS/]NAME',
    }),
    'cluster-domain': Flags.string({
      description: 'the cluster domain (default: from CoreDNS/kubelet config, else cluster.local)',
      helpValue: 'DOMAIN',
    }),
    timeout: Flags.integer({
      description: 'per-attempt timeout of a query, in ms',
      default: 2000,
      min: 50,
      max: 30000,
    }),
    probe: Flags.boolean({
      description:
        "live, with --from: resolve NAME with the pod's own resolver configuration from inside its network namespace (through a short-lived debug pod on its node) and compare with the expected answer (docs/probe.md)",
    }),
    'probe-count': Flags.integer({
      description: 'resolutions to make, at most 100 [default: 1]',
      dependsOn: ['probe'],
    }),
    'probe-timeout': probeFlags['probe-timeout'],
    'probe-mode': probeFlags['probe-mode'],
    ...debugPodFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Dns);
    this.setup(flags);
    const format = this.outputFormat(flags);
    const type = flags.type as DnsType;
    const cluster = await this.loadCluster(
      flags,
      ['namespaces', 'pods', 'services', 'endpointslices', 'endpoints', 'configmaps'],
      { allNamespaces: true } /* a name may point into any namespace */,
    );
    const { model } = cluster;
    const { buildDnsCheck, queryPlan } = await import('../analyses/dns/check.js');
    const { findClusterDomain } = await import('../analyses/dns/expected.js');
    const { reverseName, normalizeName } = await import('../analyses/dns/names.js');
    const { isIP } = await import('../core/ip.js');

    let name = args.name;
    if (isIP(name)) {
      if (type !== 'PTR')
        throw new UserError(`"${name}" is an IP address: use --type PTR to look up its name`);
      name = reverseName(name);
    }
    const found = findClusterDomain(model);
    const clusterDomain = normalizeName(flags['cluster-domain'] ?? found?.domain ?? 'cluster.local');
    const clusterDomainSource = flags['cluster-domain']
      ? '--cluster-domain'
      : (found?.source ?? 'default: no CoreDNS or kubelet configuration in the input');

    let from: ClusterModel['pods'][number] | undefined;
    if (flags.from) {
      const { parseTarget } = await import('../cli/targets.js');
      const { resolvePodTargets } = await import('../cli/resolve.js');
      const r = resolvePodTargets(model, parseTarget(flags.from, cluster.namespace, ['pod']), {
        origin: cluster.origin,
      });
      if (r.note) this.note(r.note);
      const t = r.targets[0];
      from = model.pod(t.namespace ?? cluster.namespace, t.name);
      if (!from) throw new UserError(`pod ${t.namespace}/${t.name} not found in ${cluster.origin}`);
    }

    const plan = queryPlan(model, { name, from, clusterDomain });
    const queryOpts: QueryOptions = { timeoutMs: flags.timeout, retries: 2 };
    let results: Map<string, DnsResult> | undefined;
    let server: string | undefined;
    // Live, without --server, each ready CoreDNS replica is asked over an API port-forward
    // (DNS over TCP; nothing is created in the cluster), and their answers are compared.
    let replicas: ReplicaResults[] | undefined;
    if (!flags.server && !flags.snapshot) {
      const { connectKube } = await import('../sources/kube/config.js');
      const { openPodTcp } = await import('../sources/kube/portforward.js');
      const conn = await connectKube({ kubeconfig: flags.kubeconfig, context: flags.context });
      const coredns = model
        .podsMatchingLabels('kube-system', { 'k8s-app': 'kube-dns' })
        .filter((p) => p.ready && p.phase === 'Running');
      const port = (p: (typeof coredns)[number]) =>
        p.containers.flatMap((c) => c.ports).find((cp) => cp.containerPort === 53 || cp.name === 'dns-tcp')
          ?.containerPort ?? 53;
      if (coredns.length > 0) {
        const { askReplicas } = await import('../sources/dns/walk.js');
        replicas = await askReplicas(
          coredns.map((p) => ({
            replica: `kube-system/${p.name}`,
            connect: () =>
              openPodTcp(
                conn,
                { namespace: p.namespace, pod: p.name, port: port(p) },
                { timeoutMs: flags.timeout },
              ),
          })),
          plan,
          type,
          queryOpts,
        );
      }
    }
    if (flags.server) {
      const { parseServer } = await import('../sources/dns/client.js');
      let target: { host: string; port: number };
      try {
        target = parseServer(flags.server);
      } catch (err) {
        throw new UserError((err as Error).message);
      }
      server = target.host.includes(':')
        ? `[${target.host}]:${target.port}`
        : `${target.host}:${target.port}`;
      const { askWalk } = await import('../sources/dns/walk.js');
      results = await askWalk(target, plan, type, queryOpts);
    }
    const check = buildDnsCheck(model, {
      name,
      type,
      clusterDomain,
      clusterDomainSource,
      from,
      server,
      results,
      replicas,
    });
    // Live --probe: the pod's own resolver, compared with the expected answer.
    const observed = await (await import('../cli/live.js')).probeDns(cluster, flags, check, from);
    const { renderDnsCheck } = await import('../render/dns.js');
    await this.emit(format, check, () =>
      [renderDnsCheck(check, { wide: format === 'wide' }), ...observed.map((l) => `${l}\n`)].join(''),
    );
    this.exitFor(check.findings);
  }
}
