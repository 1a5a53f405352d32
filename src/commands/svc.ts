import Endpoints from './endpoints.js';

/** `knet svc` = `knet endpoints`. The statics are restated: oclif reads them per class. */
export default class Svc extends Endpoints {
  static override summary = 'Alias of knet endpoints: why a Service has, or lacks, working backends.';
  static override description = Endpoints.description;
  static override examples = Endpoints.examples;
  static override args = Endpoints.args;
  static override flags = Endpoints.flags;
}
