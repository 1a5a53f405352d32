// A small cluster exercising every kube-proxy case (modelled on kube-proxy's own
// TestOverallIPTablesRules scenario, extended): built from raw API objects with buildModel.
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import type { NodeFiles } from '../../src/model/node-files.js';
import type { Raw } from '../../src/model/normalize.js';

export const NODE = 'test-node';
export const NODE_IP = '192.168.0.2';
export const OTHER_NODE = 'node-2';
export const CLUSTER_CIDR = '10.0.0.0/8';

interface EpSpec {
  ip: string;
  node?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

interface SvcSpec {
  ns: string;
  name: string;
  type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  clusterIP: string;
  ports?: { name: string; port: number; targetPort?: number; protocol?: string; nodePort?: number }[];
  externalIPs?: string[];
  lbIPs?: string[];
  sourceRanges?: string[];
  etp?: 'Local' | 'Cluster';
  itp?: 'Local' | 'Cluster';
  affinity?: boolean;
  hcNodePort?: number;
  endpoints?: EpSpec[];
}

export function service(s: SvcSpec): Raw[] {
  const ports = s.ports ?? [{ name: 'p80', port: 80 }];
  const svc: Raw = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: s.ns, name: s.name },
    spec: {
      type: s.type ?? 'ClusterIP',
      clusterIP: s.clusterIP,
      clusterIPs: [s.clusterIP],
      selector: { app: s.name },
      ports: ports.map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: p.targetPort ?? p.port,
        protocol: p.protocol ?? 'TCP',
        nodePort: p.nodePort,
      })),
      externalIPs: s.externalIPs,
      loadBalancerSourceRanges: s.sourceRanges,
      externalTrafficPolicy: s.etp,
      internalTrafficPolicy: s.itp,
      sessionAffinity: s.affinity ? 'ClientIP' : 'None',
      healthCheckNodePort: s.hcNodePort,
    },
    status: { loadBalancer: { ingress: (s.lbIPs ?? []).map((ip) => ({ ip })) } },
  };
  const out: Raw[] = [svc];
  if (s.endpoints) {
    out.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { namespace: s.ns, name: `${s.name}-abc`, labels: { 'kubernetes.io/service-name': s.name } },
      addressType: 'IPv4',
      ports: ports.map((p) => ({
        name: p.name,
        port: p.targetPort ?? p.port,
        protocol: p.protocol ?? 'TCP',
      })),
      endpoints: s.endpoints.map((e) => ({
        addresses: [e.ip],
        nodeName: e.node,
        conditions: {
          ready: e.ready ?? true,
          serving: e.serving ?? e.ready ?? true,
          terminating: e.terminating ?? false,
        },
      })),
    });
  }
  return out;
}

export function node(name: string, ip: string, podCIDR: string): Raw {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: { podCIDR, podCIDRs: [podCIDR] },
    status: {
      addresses: [{ type: 'InternalIP', address: ip }],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  };
}

export function kubeProxyConfigMap(mode: string, clusterCIDR = CLUSTER_CIDR): Raw {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { namespace: 'kube-system', name: 'kube-proxy' },
    data: {
      'config.conf': `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nclusterCIDR: ${clusterCIDR}\nmode: ${mode}\n`,
    },
  };
}

const L = NODE;
const R = OTHER_NODE;

/** The services of the scenario (see the comments for what each one exercises). */
export function scenarioRaws(): Raw[] {
  return [
    node(NODE, NODE_IP, '10.180.0.0/24'),
    node(OTHER_NODE, '192.168.0.3', '10.180.2.0/24'),
    // plain ClusterIP, one local endpoint
    ...service({
      ns: 'ns1',
      name: 'svc1',
      clusterIP: '172.30.0.41',
      endpoints: [{ ip: '10.180.0.1', node: L }],
    }),
    // LB + externalIP + NodePort, eTP=Local, only a remote endpoint: external traffic DROPped
    ...service({
      ns: 'ns2',
      name: 'svc2',
      type: 'LoadBalancer',
      clusterIP: '172.30.0.42',
      ports: [{ name: 'p80', port: 80, nodePort: 3001 }],
      externalIPs: ['192.168.99.22'],
      lbIPs: ['1.2.3.4'],
      etp: 'Local',
      hcNodePort: 30000,
      endpoints: [{ ip: '10.180.0.2', node: R }],
    }),
    // NodePort, eTP=Cluster
    ...service({
      ns: 'ns3',
      name: 'svc3',
      type: 'NodePort',
      clusterIP: '172.30.0.43',
      ports: [{ name: 'p80', port: 80, nodePort: 3003 }],
      endpoints: [{ ip: '10.180.0.3', node: L }],
    }),
    // ClusterIP with an externalIP, two endpoints
    ...service({
      ns: 'ns4',
      name: 'svc4',
      clusterIP: '172.30.0.44',
      externalIPs: ['192.168.99.33'],
      endpoints: [
        { ip: '10.180.0.4', node: L },
        { ip: '10.180.0.5', node: R },
      ],
    }),
    // LoadBalancer with source ranges and ClientIP affinity
    ...service({
      ns: 'ns5',
      name: 'svc5',
      type: 'LoadBalancer',
      clusterIP: '172.30.0.45',
      ports: [{ name: 'p80', port: 80, nodePort: 3002 }],
      lbIPs: ['5.6.7.8'],
      sourceRanges: ['203.0.113.0/25'],
      affinity: true,
      endpoints: [{ ip: '10.180.0.3', node: L }],
    }),
    // no endpoints at all: REJECT
    ...service({ ns: 'ns6', name: 'svc6', clusterIP: '172.30.0.46', endpoints: [] }),
    // iTP=Local with only remote endpoints: ClusterIP DROPped
    ...service({
      ns: 'ns7',
      name: 'svc7',
      clusterIP: '172.30.0.47',
      itp: 'Local',
      endpoints: [{ ip: '10.180.2.7', node: R }],
    }),
    // iTP=Local with a local endpoint: KUBE-SVL
    ...service({
      ns: 'ns8',
      name: 'svc8',
      clusterIP: '172.30.0.48',
      itp: 'Local',
      endpoints: [
        { ip: '10.180.0.8', node: L },
        { ip: '10.180.2.8', node: R },
      ],
    }),
    // only terminating endpoints: the serving one is used, the non-serving one is not
    ...service({
      ns: 'ns9',
      name: 'svc9',
      clusterIP: '172.30.0.49',
      endpoints: [
        { ip: '10.180.2.9', node: R, ready: false, serving: true, terminating: true },
        { ip: '10.180.2.19', node: R, ready: false, serving: false, terminating: true },
      ],
    }),
    // LoadBalancer eTP=Local with a local and a remote endpoint
    ...service({
      ns: 'ns10',
      name: 'svc10',
      type: 'LoadBalancer',
      clusterIP: '172.30.0.50',
      ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 3010 }],
      lbIPs: ['5.6.7.10'],
      etp: 'Local',
      hcNodePort: 30010,
      endpoints: [
        { ip: '10.180.0.10', node: L },
        { ip: '10.180.2.10', node: R },
      ],
    }),
    // multi-port, UDP+TCP, three endpoints (probabilities 1/3)
    ...service({
      ns: 'kube-system',
      name: 'kube-dns',
      clusterIP: '172.30.0.10',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
      ],
      endpoints: [
        { ip: '10.180.0.7', node: L },
        { ip: '10.180.2.7', node: R },
        { ip: '10.180.2.17', node: R },
      ],
    }),
    // LB whose source range contains the node IP: the LB IP itself is allowed as a source
    ...service({
      ns: 'ns12',
      name: 'svc12',
      type: 'LoadBalancer',
      clusterIP: '172.30.0.52',
      ports: [{ name: '', port: 443, targetPort: 8443, nodePort: 3012 }],
      lbIPs: ['5.6.7.12'],
      sourceRanges: ['192.168.0.0/24'],
      endpoints: [{ ip: '10.180.2.12', node: R }],
    }),
    kubeProxyConfigMap('iptables'),
  ];
}

export function scenarioModel(nodeFiles?: NodeFiles): ClusterModel {
  return buildModel(scenarioRaws(), nodeFiles);
}
