// Types of cluster-parts.js (plain JavaScript, shared with bench/generate.js).
import type { Raw } from '../../src/model/normalize.js';
export declare const EPOCH: number;
export declare const at: (minutes: number) => string;
export declare const NAME_SUFFIX_ALPHABET: string;
export declare function defaultTolerations(): {
  effect: string;
  key: string;
  operator: string;
  tolerationSeconds: number;
}[];
export declare function kubeProxyConfig(clusterCIDR: string): string;
export declare const COREFILE: string;

type Obj = Record<string, unknown>;
interface Identity {
  name: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
}
export declare function namespaceObject(o: Identity & { labels?: Record<string, string> }): Raw;
export declare function configMapObject(
  o: Identity & { namespace: string; labels?: Record<string, string>; data: Record<string, string> },
): Raw;
export declare function networkPolicyObject(o: Identity & { namespace: string; spec: Obj }): Raw;
export declare function daemonSetObject(
  o: Identity & {
    namespace: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    containers: { name: string; image: string }[];
    serviceAccountName: string;
    nodes: number;
  },
): Raw;
