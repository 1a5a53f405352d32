import { Args, Flags } from '@oclif/core';
import { type Answer, clusterFlags, KnetCommand } from '../cli/base.js';
import { EDGE_KINDS, SERVICE_KINDS } from '../sources/kinds.js';

export default class Ingress extends KnetCommand {
  static override summary =
    'Which backend an Ingress (or a Gateway API route) sends a host/path to, and why it fails.';
  static override description =
    'Resolves the host and path rules (exact, prefix, implementation-specific, the default backend) to the ' +
    'backend Service and port, runs the endpoints analysis on each, and checks the class, its controller, TLS ' +
    'Secrets (by name) and rules no request can reach. httproute/NS/NAME walks a Gateway API HTTPRoute ' +
    '(parentRefs, listeners, ReferenceGrants, its Accepted/ResolvedRefs conditions); gateway/NS/NAME all the ' +
    'HTTPRoutes of a Gateway.';
  static override examples = [
    '<%= config.bin %> ingress ing/shop/shop --snapshot demo',
    '<%= config.bin %> ingress ing/shop/shop --host shop.example.com --path /checkout --snapshot demo',
    '<%= config.bin %> ingress httproute/shop/store --path /pay --snapshot demo',
    '<%= config.bin %> ingress gateway/shop/shop-gateway --host store.example.com -o wide --snapshot demo',
  ];
  static override args = {
    target: Args.string({
      description: 'ing/[NAMESPACE/]NAME, httproute/[NAMESPACE/]NAME or gateway/[NAMESPACE/]NAME',
      required: true,
    }),
  };
  static override flags = {
    ...clusterFlags,
    host: Flags.string({ description: 'the request Host (a port is ignored)', helpValue: 'HOST' }),
    path: Flags.string({
      description: 'the request path (default / when --host is given)',
      helpValue: 'PATH',
    }),
  };

  protected override async answer(): Promise<Answer> {
    const { args, flags } = await this.parse(Ingress);
    this.setup(flags);
    const format = this.outputFormat(flags);
    const { checkIngressRequest, diagnoseIngressTarget } = await import('../analyses/ingress/request.js');
    const request = { target: args.target, host: flags.host, path: flags.path };
    checkIngressRequest(request);
    const cluster = await this.loadCluster(
      flags,
      [...SERVICE_KINDS, 'daemonsets', ...EDGE_KINDS],
      { allNamespaces: true } /* controllers live in their own namespace */,
    );
    const { diagnosis, ref } = diagnoseIngressTarget(cluster.model, request, cluster);
    await this.failIfMissing(diagnosis.findings, ref);
    const { document } = await import('../render/document.js');
    const { renderIngressDiagnosis } = await import('../render/ingress.js');
    await this.emit(format, document('IngressDiagnosis', diagnosis), () =>
      renderIngressDiagnosis(diagnosis, { wide: format === 'wide' }),
    );
    return { findings: diagnosis.findings };
  }
}
