// kube-proxy's chain names, against names quoted in kube-proxy's own test expectations and
// seen on real clusters (shared/reference/kube-proxy-iptables-nftables.md §2.2, §3.3).
import { describe, expect, it } from 'vitest';
import {
  base32,
  classifyKubeChain,
  endpointChainName,
  endpointString,
  nftEndpointChainBase,
  nftServicePortChainBase,
  portProtoHash,
  serviceExternalChainName,
  serviceFirewallChainName,
  servicePortChainName,
  servicePortLocalChainName,
  servicePortName,
} from '../../src/analyses/proxy/chain-names.js';
import { computeProbability } from '../../src/analyses/proxy/expected-iptables.js';

describe('iptables chain names', () => {
  const services: [string, string, string][] = [
    ['ns1/svc1:p80', 'tcp', 'XPGD46QRK7WJZT7O'],
    ['ns2/svc2:p80', 'tcp', 'GNZBNJ2PO5MGZ6GT'],
    ['ns3/svc3:p80', 'tcp', 'X27LE4BHSL4DOUIK'],
    ['ns4/svc4:p80', 'tcp', '4SW47YFZTEDKD3PK'],
    ['ns5/svc5:p80', 'tcp', 'NUKIZ6OKUXPJNT4C'],
    ['ns2/svc2:p8080', 'tcp', '2VJB64SDSIJUP5T6'],
    ['default/kubernetes:https', 'tcp', 'NPX46M4PTMTKRN6Y'],
    ['kube-system/kube-dns:dns', 'udp', 'TCOU7JCQXEZGVUNU'],
    ['kube-system/kube-dns:dns-tcp', 'tcp', 'ERIFXISQEP7F7OF4'],
    ['kube-system/kube-dns:metrics', 'tcp', 'JD5MR3NA4I4DYORP'],
    ['default/nginx', 'tcp', '2CMXP7HKUVJN7L6M'],
  ];
  for (const [spn, proto, hash] of services) {
    it(`${spn} ${proto} → ${hash}`, () => {
      expect(portProtoHash(spn, proto)).toBe(hash);
      expect(servicePortChainName(spn, proto)).toBe(`KUBE-SVC-${hash}`);
      expect(servicePortLocalChainName(spn, proto)).toBe(`KUBE-SVL-${hash}`);
      expect(serviceExternalChainName(spn, proto)).toBe(`KUBE-EXT-${hash}`);
      expect(serviceFirewallChainName(spn, proto)).toBe(`KUBE-FW-${hash}`);
    });
  }
  const endpoints: [string, string, string, string][] = [
    ['ns1/svc1:p80', 'tcp', '10.180.0.1:80', 'SXIVWICOYRO3J4NJ'],
    ['ns2/svc2:p80', 'tcp', '10.180.0.2:80', 'RS4RBKLTHTF2IUXJ'],
    ['ns4/svc4:p80', 'tcp', '10.180.0.5:80', 'C6EBXVWJJZMIWKLZ'],
    ['ns5/svc5:p80', 'tcp', '10.180.0.3:80', 'I77PXRDZVX7PMWMN'],
    ['kube-system/kube-dns:dns', 'udp', '192.168.2.210:53', 'PLKFYPYWRGK62UIW'],
    ['default/kubernetes:https', 'tcp', '192.168.1.61:443', 'JY3ERXLJSTX3QEV5'],
    ['kube-system/eks-extension-metrics-api:metrics-api', 'tcp', '172.0.32.0:10443', 'XYDDOFWXZXQGZRSQ'],
  ];
  for (const [spn, proto, ep, hash] of endpoints) {
    it(`${spn} ${ep} → KUBE-SEP-${hash}`, () => {
      expect(endpointChainName(spn, proto, ep)).toBe(`KUBE-SEP-${hash}`);
    });
  }
  it('service port names and endpoint strings', () => {
    expect(servicePortName('ns1', 'svc1', 'p80')).toBe('ns1/svc1:p80');
    expect(servicePortName('default', 'nginx', '')).toBe('default/nginx');
    expect(endpointString('10.0.0.1', 80)).toBe('10.0.0.1:80');
    expect(endpointString('fd00::1', 80)).toBe('[fd00::1]:80');
  });
  it('classifies kube-proxy chains', () => {
    expect(classifyKubeChain('KUBE-SEP-SXIVWICOYRO3J4NJ')).toEqual({ kind: 'SEP', hash: 'SXIVWICOYRO3J4NJ' });
    expect(classifyKubeChain('KUBE-SERVICES')).toBeUndefined();
  });
  it('classifies a chain name as the pattern kube-proxy names follow does', () => {
    const pattern = /^KUBE-(SVC|SVL|EXT|FW|SEP|XLB)-([A-Z2-7]{16})$/;
    const hash = 'SXIVWICOYRO3J4NJ';
    const names = [
      ...['SVC', 'SVL', 'EXT', 'FW', 'SEP', 'XLB', 'XYZ', 'F', 'FWX', 'SE', 'SEPP', 'sep', 'S-P'].map(
        (k) => `KUBE-${k}-${hash}`,
      ),
      `KUBE-SEP-${hash.slice(1)}`,
      `KUBE-SEP-${hash}A`,
      `KUBE-SEP-${hash.slice(0, 15)}1`,
      `KUBE-SEP-${hash.slice(0, 15)}8`,
      `KUBE-SEP-${hash.slice(0, 15)}a`,
      `KUBE-SEP-${hash}\n`,
      `KUBE-FW--${hash.slice(1)}`,
      `KUBE-FWA${hash}`,
      `XUBE-SEP-${hash}`,
      `KUBE-SEP_${hash}`,
      '',
    ];
    // And random names over the pattern's alphabet and its neighbours.
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const letters = 'KUBESVCLXTFWP-2718az';
    for (let i = 0; i < 2000; i++) {
      const kind = ['SVC', 'FW', 'SEP', 'XLB', 'SV', 'EXTT'][next() % 6];
      const tail = Array.from({ length: 15 + (next() % 3) }, () => letters[next() % letters.length]).join('');
      names.push(`KUBE-${kind}-${tail}`);
    }
    for (const name of names) {
      const m = pattern.exec(name);
      expect(classifyKubeChain(name), name).toEqual(m ? { kind: m[1], hash: m[2] } : undefined);
    }
  });
  it('base32 is RFC 4648 (test vectors)', () => {
    const enc = (s: string) => base32(new TextEncoder().encode(s));
    expect(enc('foobar')).toBe('MZXW6YTBOI');
    expect(enc('fooba')).toBe('MZXW6YTB');
    expect(enc('f')).toBe('MY');
  });
  it('probabilities are formatted as Go %0.10f', () => {
    expect([1, 2, 3, 10, 100000, 100001].map(computeProbability)).toEqual([
      '1.0000000000',
      '0.5000000000',
      '0.3333333333',
      '0.1000000000',
      '0.0000100000',
      '0.0000099999',
    ]);
  });
});

describe('nftables chain names', () => {
  const cases: [string, string, string, string, string][] = [
    ['ns1', 'svc1', 'tcp', 'p80', 'ULMVA6XW'],
    ['ns2', 'svc2', 'tcp', 'p80', '42NFTM6N'],
    ['ns5', 'svc5', 'tcp', 'p80', 'HVFWP5L3'],
    ['ns2', 'svc2', 'tcp', 'p8080', 'MHHHYRWA'],
    ['testing', 'service', 'tcp', 'http', 'P4ZYZVCF'],
  ];
  for (const [ns, name, proto, port, hash] of cases) {
    it(`${ns}/${name}/${proto}/${port} → ${hash}`, () => {
      expect(nftServicePortChainBase(ns, name, proto, port)).toBe(`${hash}-${ns}/${name}/${proto}/${port}`);
    });
  }
  it('endpoint chain bases (IPv4 and IPv6)', () => {
    expect(nftEndpointChainBase('ns1', 'svc1', 'tcp', 'p80', '10.180.0.1', 80)).toBe(
      '5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80',
    );
    expect(nftEndpointChainBase('ns4', 'svc4', 'tcp', 'p80', '10.180.0.5', 80)).toMatch(/^5RFCDDV7-/);
    expect(
      nftEndpointChainBase('testing', 'service', 'tcp', 'http', 'fd80:abcd:12::a1b2:c3d4:e5f6:9999', 80),
    ).toBe('U7E2ET36-testing/service/tcp/http__fd80.abcd.12..a1b2.c3d4.e5f6.9999/80');
  });
});
