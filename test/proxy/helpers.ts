import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Packet } from '../../src/analyses/proxy/packet.js';
import { memoryNodeFiles } from '../../src/model/node-files.js';
import { NODE, scenarioModel } from './scenario.js';

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'proxy');

export function fixture(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** The scenario model with the given files as nodes/test-node/…. */
export function modelWithFiles(files: Record<string, string>) {
  return scenarioModel(memoryNodeFiles({ [NODE]: files }));
}

export function pkt(
  from: Packet['from'],
  source: string,
  to: string,
  protocol: Packet['protocol'] = 'TCP',
): Packet {
  const i = to.lastIndexOf(':');
  return { from, source, destination: to.slice(0, i), port: Number(to.slice(i + 1)), protocol };
}
