// analyses/trace/request.ts: a trace as typed (knet trace, a --batch line, knet diff's trace)
// checked before the cluster is read, turned into the queries of one model, and traced.
import { describe, expect, it } from 'vitest';
import {
  checkTraceRequest,
  parseTraceEnds,
  runTraces,
  traceQueries,
} from '../../src/analyses/trace/request.js';
import { nodeNames } from '../../src/cli/live-flags.js';
import { UserError } from '../../src/core/errors.js';
import { buildModel } from '../../src/model/build.js';
import { rawNamespace, rawNode, rawPod } from '../support/objects.js';

const owned = (name: string, ip: string) => {
  const p = rawPod({ namespace: 'shop', name, node: 'node-1', ip });
  p.metadata.ownerReferences = [
    { apiVersion: 'apps/v1', controller: true, kind: 'ReplicaSet', name: 'front-7d9f' },
  ];
  p.metadata.labels['pod-template-hash'] = '7d9f';
  return p;
};

const model = buildModel([
  rawNamespace('shop'),
  rawNode({ name: 'node-1', ip: '172.18.0.2' }),
  owned('front-7d9f-a', '10.244.1.4'),
  owned('front-7d9f-b', '10.244.1.5'),
  rawPod({ namespace: 'shop', name: 'db-0', node: 'node-1', ip: '10.244.1.9' }),
]);

describe('checkTraceRequest', () => {
  it('says whether the destination is a route, and refuses what does not apply', () => {
    expect(checkTraceRequest({ source: 'pod/a/b', destination: 'ing/a/c', path: '/x' })).toBe(true);
    expect(checkTraceRequest({ source: 'ip/203.0.113.7', destination: 'svc/a/c' })).toBe(false);
    expect(() => checkTraceRequest({ source: 'pod/a/b', destination: 'svc/a/c', host: 'h' })).toThrow(
      '--host and --path apply to an ing/ or httproute/ destination only',
    );
    expect(() => checkTraceRequest({ source: 'pod/a/b', destination: 'ing/a/c', path: 'x' })).toThrow(
      '--path must start with "/": x',
    );
    // The source is read first, and takes no svc/.
    expect(() => parseTraceEnds('svc/a/b', 'bogus')).toThrow(/target "svc\/a\/b" is not accepted here/);
  });
});

describe('traceQueries and runTraces', () => {
  it('pairs every source pod with every destination, with the port and protocol of the request', () => {
    const notes: string[] = [];
    const queries = traceQueries(
      model,
      { source: 'deploy/front', destination: 'pod/db-0', port: '5432', protocol: 'udp', allPods: true },
      { namespace: 'shop' },
      (n) => notes.push(n),
    );
    expect(queries.map((q) => [q.source.name, q.destination.name, q.port, q.protocol])).toEqual([
      ['front-7d9f-a', 'db-0', 5432, 'UDP'],
      ['front-7d9f-b', 'db-0', 5432, 'UDP'],
    ]);
    expect(notes).toEqual(['deploy/shop/front: 2 pods']);
    const named = traceQueries(
      model,
      { source: 'pod/db-0', destination: 'pod/db-0', port: 'pg' },
      { namespace: 'shop' },
    );
    expect(named[0].port).toBe('pg');
  });

  it('turns a target the model does not hold into the one-line error', () => {
    const queries = traceQueries(
      model,
      { source: 'pod/db-0', destination: 'pod/db-9' },
      { namespace: 'shop' },
    );
    const err = (() => {
      try {
        runTraces(model, queries);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/^No pod shop\/db-9.*[^.]$/);
  });
});

describe('nodeNames', () => {
  it('reads --nodes A,B; an empty list names every node', () => {
    expect(nodeNames(' a, b ,,c')).toEqual(['a', 'b', 'c']);
    expect(nodeNames('')).toBeUndefined();
    expect(nodeNames(undefined)).toBeUndefined();
  });
});
