import ProxyCommand from './proxy.js';

/** `knet iptables` = `knet proxy`. The statics are restated: oclif reads them per class. */
export default class Iptables extends ProxyCommand {
  static override summary = 'Alias of knet proxy: kube-proxy rules per service, drift, packet simulation.';
  static override description = ProxyCommand.description;
  static override examples = ProxyCommand.examples;
  static override args = ProxyCommand.args;
  static override flags = ProxyCommand.flags;
}
