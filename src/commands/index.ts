// Explicit command registry (oclif "explicit" strategy): no directory scan at start-up.
// Command modules keep their heavy imports inside run(), so loading this file stays cheap.
import Completion from './completion.js';
import Diff from './diff.js';
import Dns from './dns.js';
import Doctor from './doctor.js';
import Endpoints from './endpoints.js';
import HelpCommand from './help.js';
import IngressCommand from './ingress.js';
import Iptables from './iptables.js';
import Nodes from './nodes.js';
import Pods from './pods.js';
import Policy from './policy.js';
import ProxyCommand from './proxy.js';
import Snapshot from './snapshot.js';
import Svc from './svc.js';
import Trace from './trace.js';
import Version from './version.js';

export const COMMANDS = {
  trace: Trace,
  dns: Dns,
  doctor: Doctor,
  diff: Diff,
  endpoints: Endpoints,
  svc: Svc,
  pods: Pods,
  policy: Policy,
  nodes: Nodes,
  snapshot: Snapshot,
  proxy: ProxyCommand,
  iptables: Iptables,
  ingress: IngressCommand,
  completion: Completion,
  help: HelpCommand,
  version: Version,
};
