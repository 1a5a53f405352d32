// Models for the dataplane captures (test/fixtures/edges/{egress,mtu}/CASE/nodes/…): the API
// objects that go with the namespaces lab.ts builds, plus the captured node files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import { memoryNodeFiles } from '../../src/model/node-files.js';
import type { Raw } from '../../src/model/normalize.js';
import { ROOT } from '../support/cli.js';
import { rawNode, rawPod } from '../support/objects.js';

export const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'edges');

export type NodeFileMap = Record<string, Record<string, string>>;

/** Every file below DIR/nodes/, as memoryNodeFiles wants them. */
export function readNodeFiles(dir: string): NodeFileMap {
  const out: NodeFileMap = {};
  const nodesDir = path.join(dir, 'nodes');
  for (const node of readdirSync(nodesDir)) {
    const files: Record<string, string> = {};
    const walk = (rel: string) => {
      for (const entry of readdirSync(path.join(nodesDir, node, rel))) {
        const r = rel ? `${rel}/${entry}` : entry;
        if (statSync(path.join(nodesDir, node, r)).isDirectory()) walk(r);
        else files[r] = readFileSync(path.join(nodesDir, node, r), 'utf8');
      }
    };
    walk('');
    out[node] = files;
  }
  return out;
}

export function egressObjects(): Raw[] {
  return [
    rawNode({ name: 'node-1', ip: '172.18.0.2', podCIDRs: ['10.244.1.0/24'] }),
    rawPod({ namespace: 'shop', name: 'web', node: 'node-1', ip: '10.244.1.5', labels: { app: 'web' } }),
  ];
}

export function egressModel(files: NodeFileMap, extra: Raw[] = []): ClusterModel {
  return buildModel([...egressObjects(), ...extra], memoryNodeFiles(files));
}

export function mtuObjects(): Raw[] {
  return [
    rawNode({ name: 'node-a', ip: '172.18.0.2', podCIDRs: ['10.244.1.0/24'] }),
    rawNode({ name: 'node-b', ip: '172.18.0.3', podCIDRs: ['10.244.2.0/24'] }),
    rawPod({ namespace: 'shop', name: 'a', node: 'node-a', ip: '10.244.1.5' }),
    rawPod({ namespace: 'shop', name: 'b', node: 'node-b', ip: '10.244.2.5' }),
  ];
}

export function mtuModel(files: NodeFileMap): ClusterModel {
  return buildModel(mtuObjects(), memoryNodeFiles(files));
}

export function rpModel(files: NodeFileMap): ClusterModel {
  return buildModel(
    [rawNode({ name: 'node-1', ip: '172.18.0.2', podCIDRs: ['10.244.1.0/24'] })],
    memoryNodeFiles(files),
  );
}
