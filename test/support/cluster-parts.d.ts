// Types of cluster-parts.js (plain JavaScript, shared with bench/generate.js).
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
