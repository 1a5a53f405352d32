import { Flags } from '@oclif/core';
import { type Answer, allNamespacesFlag, clusterFlags, KnetCommand } from '../cli/base.js';
import { collectFlags, saveFlag } from '../cli/live-flags.js';
import { UserError } from '../core/errors.js';
import { EDGE_KINDS, PATH_KINDS } from '../sources/kinds.js';

export default class Doctor extends KnetCommand {
  static override summary = 'Every finding in the cluster (or a namespace), grouped and sorted by severity.';
  static override description =
    'Runs every check: pods and nodes, every Service (endpoints analysis), kube-proxy drift on every node ' +
    'with node files, the cluster DNS Service, and NetworkPolicy sanity. The first command to run on an unknown cluster.';
  static override examples = [
    '<%= config.bin %> doctor -A --snapshot demo',
    '<%= config.bin %> doctor -n shop --severity warning --snapshot demo',
    '<%= config.bin %> doctor -A --only SVC_LABEL_MISMATCH,PROXY_ENDPOINT_STALE --json --snapshot demo',
  ];
  static override flags = {
    ...clusterFlags,
    ...allNamespacesFlag,
    only: Flags.string({ description: 'only these finding codes (comma-separated)', helpValue: 'CODE,…' }),
    severity: Flags.string({
      description: 'the lowest severity to list',
      options: ['error', 'warning', 'info'],
    }),
    ...collectFlags,
    nodes: Flags.string({
      description: 'with --collect-nodes: only these nodes (comma-separated; at most 20 without it)',
      helpValue: 'A,B',
      dependsOn: ['collect-nodes'],
    }),
    ...saveFlag,
  };

  protected override async answer(): Promise<Answer> {
    const { flags } = await this.parse(Doctor);
    this.setup(flags);
    const format = this.outputFormat(flags);
    const only = flags.only
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (only?.length) {
      const { CATALOG } = await import('../findings/catalog.js');
      const unknown = only.filter((code) => !(code in CATALOG));
      if (unknown.length)
        throw new UserError(`unknown finding code ${unknown.join(', ')} (see docs/findings.md)`);
    }
    // Doctor goes on without the edges and NetworkPolicies it may not read (a warning says so).
    const cluster = await this.loadCluster(flags, [...PATH_KINDS, ...EDGE_KINDS], {
      optional: ['ingresses', 'ingressclasses', 'networkpolicies'],
    });
    // Live --collect-nodes: the node files of a bounded set of nodes, read now.
    await (await import('../cli/live.js')).collectForDoctor(cluster, flags);
    const { runDoctor, runDoctorWith } = await import('../analyses/doctor.js');
    const { renderDoctor } = await import('../render/doctor.js');
    const { document } = await import('../render/document.js');
    const options = {
      namespace: flags['all-namespaces'] ? undefined : cluster.namespace,
      only,
      severity: flags.severity as 'error' | 'warning' | 'info' | undefined,
      onProgress: (await import('../core/progress.js')).reportProgress,
    };
    // KNET_DOCTOR_WORKER=on: the node checks on a second core (cli/doctor-worker.ts).
    const worker =
      flags.snapshot && options.namespace === undefined
        ? (await import('../cli/doctor-worker.js')).startDoctorWorker(flags.snapshot, cluster.model)
        : undefined;
    let report: ReturnType<typeof runDoctor>;
    try {
      report = worker
        ? await runDoctorWith(cluster.model, options, (r) => worker.check(r))
        : runDoctor(cluster.model, options);
    } finally {
      await worker?.close();
    }
    await this.emit(format, document('DoctorReport', report), () =>
      renderDoctor(report, { wide: format === 'wide' }),
    );
    return { findings: report.findings };
  }
}
