// The Service index's one-question lookups (a packet's trace asks one or two of them) answer
// what its maps answer, without building them: for every VIP, NodePort and chain hash of the
// scenario, with Services that share addresses and a Service listed twice, and with a wrong
// hint.
import { describe, expect, it } from 'vitest';
import { portProtoHash } from '../../src/analyses/proxy/chain-names.js';
import { buildServiceIndex } from '../../src/analyses/proxy/service-index.js';
import { buildModel } from '../../src/model/build.js';
import { NODE, scenarioRaws, service } from './scenario.js';

const model = buildModel([
  ...scenarioRaws(),
  // Its external IP is svc1's ClusterIP (the later Service wins the VIP).
  ...service({ ns: 'ns9', name: 'shadow', clusterIP: '172.30.9.1', externalIPs: ['172.30.0.41'] }),
  // The same Service twice with different ClusterIPs: the later copy wins its hash.
  ...service({ ns: 'ns9', name: 'twice', clusterIP: '172.30.9.2', ports: [{ name: 'p', port: 81 }] }),
  ...service({ ns: 'ns9', name: 'twice', clusterIP: '172.30.9.3', ports: [{ name: 'p', port: 81 }] }),
]);
const full = buildServiceIndex(model, NODE);
const fresh = () => buildServiceIndex(model, NODE);
const shape = (sp?: { spn: string; clusterIP: string; family: number }) =>
  sp && { spn: sp.spn, clusterIP: sp.clusterIP, family: sp.family };

describe('Service index, one question at a time', () => {
  it('answers every VIP as the map does', () => {
    expect(full.byVip.size).toBeGreaterThan(5);
    for (const [key, hit] of full.byVip) {
      const [ip, proto, port] = key.split('|');
      const one = fresh().vip(ip, proto, Number(port));
      expect({ kind: one?.kind, sp: shape(one?.sp) }).toEqual({ kind: hit.kind, sp: shape(hit.sp) });
    }
    expect(fresh().vip('172.30.0.41', 'tcp', 80)?.sp.spn).toBe('ns9/shadow:p80');
    expect(fresh().vip('172.30.0.99', 'tcp', 80)).toBeUndefined();
  });

  it('answers every NodePort as the map does', () => {
    expect(full.byNodePort.size).toBeGreaterThan(0);
    for (const [key, sp] of full.byNodePort) {
      const [proto, port] = key.split('|');
      expect(shape(fresh().nodePort(proto, Number(port)))).toEqual(shape(sp));
    }
    expect(fresh().nodePort('tcp', 1)).toBeUndefined();
  });

  it('answers every chain hash as the map does, whatever the hint', () => {
    for (const [hash, sp] of full.byHash) {
      const named = { namespace: sp.service.namespace, name: sp.service.name };
      expect(shape(fresh().hash(hash))).toEqual(shape(sp));
      expect(shape(fresh().hash(hash, named))).toEqual(shape(sp));
      expect(shape(fresh().hash(hash, { namespace: 'ns1', name: 'svc1' }))).toEqual(shape(sp));
    }
    const twice = fresh().hash(portProtoHash('ns9/twice:p', 'tcp'), { namespace: 'ns9', name: 'twice' });
    expect(twice?.clusterIP).toBe('172.30.9.3');
    expect(fresh().hash('NOSUCHHASH000000')).toBeUndefined();
  });
});
