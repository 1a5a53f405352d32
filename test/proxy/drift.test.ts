import { describe, expect, it } from 'vitest';
import { diagnoseProxyDrift, proxyDriftFindings } from '../../src/analyses/proxy/drift.js';
import { buildModel } from '../../src/model/build.js';
import { memoryNodeFiles } from '../../src/model/node-files.js';
import type { Raw } from '../../src/model/normalize.js';
import { fixture, modelWithFiles } from './helpers.js';
import { NODE, scenarioRaws, service } from './scenario.js';

const IPT = fixture('iptables-save.scenario.txt');
const NFT = fixture('nft.scenario.json');

function withRaws(edit: (raws: Raw[]) => Raw[], files: Record<string, string>) {
  return buildModel(edit(scenarioRaws()), memoryNodeFiles({ [NODE]: files }));
}

/** Replaces the objects of one service (Service + slice) by new ones. */
function replaceService(raws: Raw[], ns: string, name: string, replacement: Raw[]): Raw[] {
  const kept = raws.filter(
    (r) =>
      !(
        r.metadata?.namespace === ns &&
        (r.metadata?.name === name || r.metadata?.labels?.['kubernetes.io/service-name'] === name)
      ),
  );
  return [...kept, ...replacement];
}

const codes = (fs: { code: string }[]) => fs.map((f) => f.code).sort();

for (const [label, files] of [
  ['iptables', { 'iptables-save.txt': IPT }],
  ['nftables', { 'nft.json': NFT }],
] as const) {
  describe(`drift (${label})`, () => {
    it('rules generated from the API show no drift; no-endpoint services are PROXY_REJECT', () => {
      const report = diagnoseProxyDrift(modelWithFiles(files), NODE);
      expect(report.dataplane).toBe(label);
      expect(report.services.length).toBe(13);
      expect(codes(report.findings)).toEqual(['PROXY_REJECT', 'PROXY_REJECT']);
      expect(report.findings.map((f) => f.objects[0]).sort()).toEqual(['svc/ns6/svc6', 'svc/ns7/svc7']);
      const svc4 = report.services.find((r) => r.name === 'svc4');
      expect(svc4?.rulesEndpoints.map((e) => [e.ip, e.probability])).toEqual([
        ['10.180.0.4', 0.5],
        ['10.180.0.5', 0.5],
      ]);
      expect(svc4?.status).toBe('ok');
      expect(report.staleChains).toEqual([]);
    });

    it('an endpoint removed from the API but still in the rules is PROXY_ENDPOINT_STALE', () => {
      const model = withRaws(
        (raws) =>
          replaceService(
            raws,
            'ns4',
            'svc4',
            service({
              ns: 'ns4',
              name: 'svc4',
              clusterIP: '172.30.0.44',
              externalIPs: ['192.168.99.33'],
              endpoints: [{ ip: '10.180.0.4', node: NODE }],
            }),
          ),
        files,
      );
      const report = diagnoseProxyDrift(model, NODE, { service: { namespace: 'ns4', name: 'svc4' } });
      expect(codes(report.findings)).toEqual(['PROXY_ENDPOINT_STALE']);
      expect(report.findings[0].message).toContain('10.180.0.5:80');
      expect(report.services[0].status).toBe('drift');
    });

    it('a ready endpoint the rules lack is PROXY_ENDPOINT_MISSING', () => {
      const model = withRaws(
        (raws) =>
          replaceService(
            raws,
            'ns1',
            'svc1',
            service({
              ns: 'ns1',
              name: 'svc1',
              clusterIP: '172.30.0.41',
              endpoints: [
                { ip: '10.180.0.1', node: NODE },
                { ip: '10.180.0.61', node: NODE },
              ],
            }),
          ),
        files,
      );
      const report = diagnoseProxyDrift(model, NODE, { service: { namespace: 'ns1', name: 'svc1' } });
      expect(codes(report.findings)).toEqual(['PROXY_ENDPOINT_MISSING']);
      expect(report.findings[0].message).toContain('10.180.0.61:80');
    });

    it('a service the rules do not know is PROXY_RULES_MISSING', () => {
      const model = withRaws(
        (raws) => [
          ...raws,
          ...service({
            ns: 'ns9',
            name: 'newsvc',
            clusterIP: '172.30.0.99',
            endpoints: [{ ip: '10.180.0.99', node: NODE }],
          }),
        ],
        files,
      );
      const fs = proxyDriftFindings(model, NODE, { namespace: 'ns9' });
      expect(codes(fs)).toEqual(['PROXY_RULES_MISSING']);
      expect(fs[0].objects).toContain('svc/ns9/newsvc');
    });
  });
}

describe('chain → service mapping without comments', () => {
  it('iptables rules stripped of every comment map to the same services', () => {
    const stripped = IPT.replace(/ -m comment --comment "[^"]*"/g, '');
    expect(stripped).not.toContain('--comment');
    const report = diagnoseProxyDrift(modelWithFiles({ 'iptables-save.txt': stripped }), NODE);
    expect(codes(report.findings)).toEqual(['PROXY_REJECT', 'PROXY_REJECT']);
    expect(report.services.find((r) => r.name === 'svc1')?.chain).toBe('KUBE-SVC-XPGD46QRK7WJZT7O');
  });

  it('a chain of a deleted service is reported stale', () => {
    const model = withRaws((raws) => replaceService(raws, 'ns3', 'svc3', []), { 'iptables-save.txt': IPT });
    const report = diagnoseProxyDrift(model, NODE);
    expect(report.staleChains).toEqual(
      expect.arrayContaining([
        'KUBE-EXT-X27LE4BHSL4DOUIK',
        'KUBE-SEP-OYPFS5VJICHGATKP',
        'KUBE-SVC-X27LE4BHSL4DOUIK',
      ]),
    );
  });

  it('no dumps: NO_NODE_DATA, not OK', () => {
    const report = diagnoseProxyDrift(modelWithFiles({}), NODE);
    expect(report.dataplane).toBeNull();
    expect(codes(report.findings)).toEqual(['NO_NODE_DATA']);
  });
});
