// Explicit command registry (oclif "explicit" strategy): no directory scan at start-up.
// Command modules keep their heavy imports inside run(), so loading this file stays cheap.
import Nodes from './nodes.js';
import Pods from './pods.js';

export const COMMANDS = {
  pods: Pods,
  nodes: Nodes,
};
