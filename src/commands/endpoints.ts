import { Args, Flags } from '@oclif/core';
import { type Answer, clusterFlags, KnetCommand } from '../cli/base.js';
import { SERVICE_KINDS } from '../sources/kinds.js';

export default class Endpoints extends KnetCommand {
  static override summary = 'Why a Service has, or lacks, working backends (alias: knet svc).';
  static override description =
    "Matches the Service's selector against the pods (with the near misses when it matches nothing), " +
    'checks readiness and the per-pod targetPort, and compares the EndpointSlices with the pods.';
  static override examples = [
    '<%= config.bin %> endpoints svc/shop/cart --snapshot demo',
    '<%= config.bin %> endpoints svc/cart:http -n shop --snapshot demo',
    '<%= config.bin %> endpoints svc/shop/frontend --node demo-worker -o wide --snapshot demo',
    '<%= config.bin %> svc svc/shop/frontend --json --snapshot demo',
  ];
  static override args = {
    service: Args.string({
      description: 'svc/NAME or svc/NAMESPACE/NAME, optionally :PORT (number or name)',
      required: true,
    }),
  };
  static override flags = {
    ...clusterFlags,
    node: Flags.string({
      description: 'the node traffic arrives at: checks for a local endpoint under a Local traffic policy',
      helpValue: 'NODE',
    }),
  };

  protected override async answer(): Promise<Answer> {
    const { args, flags } = await this.parse(this.constructor as typeof Endpoints);
    this.setup(flags);
    const format = this.outputFormat(flags);
    const { parseTarget } = await import('../core/target-grammar.js');
    // Validate the target before loading anything: a typo should not cost a cluster read.
    parseTarget(args.service, 'default', ['svc']);
    const cluster = await this.loadCluster(
      flags,
      [...SERVICE_KINDS],
      { allNamespaces: true } /* near misses look in every namespace */,
    );
    const target = parseTarget(args.service, cluster.namespace, ['svc']);
    const { requireNode } = await import('../analyses/targets.js');
    requireNode(cluster.model, flags.node, cluster.origin);
    const { diagnoseService } = await import('../analyses/endpoints/diagnose.js');
    const { renderServiceDiagnosis } = await import('../render/endpoints.js');
    const { document } = await import('../render/document.js');
    const diagnosis = diagnoseService(cluster.model, target.namespace ?? cluster.namespace, target.name, {
      port: target.port,
      node: flags.node,
    });
    await this.failIfMissing(
      diagnosis.findings,
      `svc/${target.namespace ?? cluster.namespace}/${target.name}`,
    );
    await this.emit(format, document('ServiceDiagnosis', diagnosis), () =>
      renderServiceDiagnosis(diagnosis, { wide: format === 'wide' }),
    );
    return { findings: diagnosis.findings };
  }
}
