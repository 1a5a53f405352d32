import { Args, Flags } from '@oclif/core';
import type { ReplicaResults } from '../analyses/dns/check.js';
import type { DnsResult, DnsType } from '../analyses/dns/types.js';
import { type Answer, clusterFlags, KnetCommand } from '../cli/base.js';
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
  };

  protected override async answer(): Promise<Answer> {
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
    const { chooseClusterDomain } = await import('../analyses/dns/expected.js');
    const { reverseName } = await import('../analyses/dns/names.js');
    const { isIP } = await import('../core/ip.js');

    let name = args.name;
    if (isIP(name)) {
      if (type !== 'PTR')
        throw new UserError(`"${name}" is an IP address: use --type PTR to look up its name`);
      name = reverseName(name);
    }
    const { domain: clusterDomain, source: clusterDomainSource } = chooseClusterDomain(
      model,
      flags['cluster-domain'],
    );

    let from: ClusterModel['pods'][number] | undefined;
    if (flags.from) {
      const { parseTarget } = await import('../core/target-grammar.js');
      const { resolvePodTargets } = await import('../analyses/targets.js');
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
    let asked: { server?: string; results?: Map<string, DnsResult>; replicas?: ReplicaResults[] } = {};
    if (flags.server) {
      const { askServer } = await import('../sources/dns/ask.js');
      asked = await askServer(flags.server, plan, type, queryOpts);
    } else if (!flags.snapshot) {
      // Live, without --server, each ready CoreDNS replica is asked, and their answers compared.
      const { askCoreDnsReplicas } = await import('../sources/dns/ask.js');
      const kube = { kubeconfig: flags.kubeconfig, context: flags.context };
      asked = { replicas: await askCoreDnsReplicas(model, kube, plan, type, queryOpts) };
    }
    const check = buildDnsCheck(model, {
      name,
      type,
      clusterDomain,
      clusterDomainSource,
      from,
      ...asked,
    });
    const { renderDnsCheck } = await import('../render/dns.js');
    await this.emit(format, check, () => renderDnsCheck(check, { wide: format === 'wide' }));
    return { findings: check.findings };
  }
}
