// What the two synthetic clusters share: the demo (test/lab/demo-cluster.ts, examples/demo/)
// and the scale bench's (bench/generate.js). Both are "made with kubeadm on 2025-03-03":
// the same epoch, the kubeadm-default CoreDNS and kube-proxy configurations, the tolerations
// the API server gives every pod, and Kubernetes' alphabet for generated name suffixes.
// Plain JavaScript (typed by cluster-parts.d.ts), so that `node bench/generate.js` loads it
// without a build.

/** When the cluster was created. */
export const EPOCH = Date.parse('2025-03-03T08:00:00Z');

/** RFC 3339 seconds, `minutes` after the cluster was created. */
export const at = (minutes) => new Date(EPOCH + minutes * 60_000).toISOString().replace('.000Z', 'Z');

/** k8s.io/apimachinery/pkg/util/rand: the alphabet of generated name suffixes. */
export const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The tolerations the DefaultTolerationSeconds admission plugin adds to a pod. */
export function defaultTolerations() {
  return [
    { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
    {
      effect: 'NoExecute',
      key: 'node.kubernetes.io/unreachable',
      operator: 'Exists',
      tolerationSeconds: 300,
    },
  ];
}

/** kubeadm's kube-proxy ConfigMap (config.conf), iptables mode. */
export function kubeProxyConfig(clusterCIDR) {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
clientConnection:
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
clusterCIDR: ${clusterCIDR}
conntrack:
  maxPerCore: 0
  tcpBeLiberal: false
detectLocalMode: ClusterCIDR
iptables:
  masqueradeAll: false
  masqueradeBit: 14
  minSyncPeriod: 1s
  syncPeriod: 30s
kind: KubeProxyConfiguration
metricsBindAddress: 0.0.0.0:10249
mode: iptables
nodePortAddresses: null
`;
}

/** kubeadm's CoreDNS Corefile. */
export const COREFILE = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

// Objects as the API server returns them, for the kinds both clusters write the same way. The
// caller derives the identity (uid, resourceVersion, creationTimestamp) its own way.

/** A Namespace. */
export function namespaceObject({ name, uid, resourceVersion, creationTimestamp, labels = {} }) {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      uid,
      resourceVersion,
      creationTimestamp,
      labels: { 'kubernetes.io/metadata.name': name, ...labels },
    },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

/** A ConfigMap. */
export function configMapObject({ namespace, name, uid, resourceVersion, creationTimestamp, labels, data }) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp, ...(labels ? { labels } : {}) },
    data,
  };
}

/** A NetworkPolicy. */
export function networkPolicyObject({ namespace, name, uid, resourceVersion, creationTimestamp, spec }) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace, uid, resourceVersion, generation: 1, creationTimestamp },
    spec,
  };
}

/** A node agent's DaemonSet (kube-proxy, the CNI), scheduled and ready on every one of `nodes`. */
export function daemonSetObject({
  namespace,
  name,
  uid,
  resourceVersion,
  creationTimestamp,
  labels,
  annotations,
  containers,
  serviceAccountName,
  nodes,
}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name,
      namespace,
      uid,
      resourceVersion,
      generation: 1,
      creationTimestamp,
      labels,
      ...(annotations ? { annotations } : {}),
    },
    spec: {
      revisionHistoryLimit: 10,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: containers.map((c) => ({
            name: c.name,
            image: c.image,
            imagePullPolicy: 'IfNotPresent',
          })),
          hostNetwork: true,
          priorityClassName: 'system-node-critical',
          serviceAccountName,
          tolerations: [{ operator: 'Exists' }],
        },
      },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } },
    },
    status: {
      currentNumberScheduled: nodes,
      desiredNumberScheduled: nodes,
      numberAvailable: nodes,
      numberMisscheduled: 0,
      numberReady: nodes,
      observedGeneration: 1,
      updatedNumberScheduled: nodes,
    },
  };
}
