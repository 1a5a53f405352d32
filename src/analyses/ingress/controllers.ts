// Which pods implement an IngressClass or GatewayClass: the class names a controller
// (spec.controller / spec.controllerName); knet knows the common controllers by the images and
// labels of their pods, and finds the Services that front those pods (the way in from outside).
import type { ClusterModel } from '../../model/cluster.js';
import { matchesEquality } from '../../model/labels.js';
import type { Pod, Service } from '../../model/types.js';
import type { ControllerSummary } from './types.js';

export interface ControllerSignature {
  /** A name for people: "ingress-nginx", "Envoy Gateway". */
  name: string;
  /** Controller strings of IngressClass.spec.controller / GatewayClass.spec.controllerName. */
  controllers: RegExp;
  /** Images of the controller's (or its data plane's) pods. */
  images: RegExp;
  /** Labels its pods carry in the standard manifests and Helm charts. */
  labels: Record<string, string>[];
  /** The data plane runs outside the cluster (a cloud load balancer): no pods to find. */
  external?: boolean;
}

export const CONTROLLERS: ControllerSignature[] = [
  {
    name: 'ingress-nginx',
    controllers: /^k8s\.io\/ingress-nginx$/,
    images: /ingress-nginx\/controller|ingress-nginx-controller/,
    labels: [{ 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' }],
  },
  {
    name: 'NGINX Ingress Controller (F5)',
    controllers: /^nginx\.org\/ingress-controller$/,
    images: /nginx\/nginx-ingress|nginx-plus-ingress/,
    labels: [{ 'app.kubernetes.io/name': 'nginx-ingress' }],
  },
  {
    name: 'NGINX Gateway Fabric',
    controllers: /^gateway\.nginx\.org\/nginx-gateway-controller$/,
    images: /nginx-gateway-fabric|nginx\/nginx-gateway/,
    labels: [
      { 'app.kubernetes.io/name': 'nginx-gateway' },
      { 'app.kubernetes.io/name': 'nginx-gateway-fabric' },
    ],
  },
  {
    name: 'Traefik',
    controllers: /^traefik\.io\/(ingress|gateway)-controller$/,
    images: /(^|\/)traefik(:|@|$)/,
    labels: [{ 'app.kubernetes.io/name': 'traefik' }],
  },
  {
    name: 'HAProxy',
    controllers: /^haproxy\.org\/ingress-controller|^haproxy-ingress\.github\.io\/controller$/,
    images: /haproxytech\/kubernetes-ingress|haproxy-ingress/,
    labels: [
      { 'app.kubernetes.io/name': 'kubernetes-ingress' },
      { 'app.kubernetes.io/name': 'haproxy-ingress' },
    ],
  },
  {
    name: 'Contour',
    controllers: /^projectcontour\.io\//,
    images: /projectcontour\/contour/,
    labels: [{ 'app.kubernetes.io/name': 'contour' }],
  },
  {
    name: 'Envoy Gateway',
    controllers: /^gateway\.envoyproxy\.io\/gatewayclass-controller$/,
    images: /envoyproxy\/gateway(:|@|$)/,
    labels: [{ 'app.kubernetes.io/name': 'gateway-helm' }, { 'control-plane': 'envoy-gateway' }],
  },
  {
    name: 'Kong',
    controllers: /^ingress-controllers\.konghq\.com\/kong$|^konghq\.com\/kic-gateway-controller$/,
    images: /kong\/kubernetes-ingress-controller|(^|\/)kong(-gateway)?(:|@|$)/,
    labels: [{ 'app.kubernetes.io/name': 'kong' }],
  },
  {
    name: 'Istio',
    controllers: /^istio\.io\/(ingress|gateway)-controller$/,
    images: /istio\/(pilot|proxyv2)/,
    labels: [{ app: 'istiod' }, { istio: 'ingressgateway' }],
  },
  {
    name: 'Cilium',
    controllers: /^cilium\.io\/ingress-controller$|^io\.cilium\/gateway-controller$/,
    images: /cilium\/(cilium|operator)/,
    labels: [{ 'k8s-app': 'cilium' }],
  },
  {
    name: 'APISIX',
    controllers: /^apisix\.apache\.org\//,
    images: /apache\/apisix-ingress-controller/,
    labels: [{ 'app.kubernetes.io/name': 'ingress-controller' }],
  },
  {
    name: 'Azure Application Gateway Ingress Controller',
    controllers: /^azure\/application-gateway$/,
    images: /application-gateway-kubernetes-ingress|ingress-appgw/,
    labels: [{ app: 'ingress-appgw' }],
  },
  {
    name: 'AWS Load Balancer Controller',
    controllers: /^ingress\.k8s\.aws\/alb$|^gateway\.k8s\.aws\//,
    images: /aws-load-balancer-controller/,
    labels: [{ 'app.kubernetes.io/name': 'aws-load-balancer-controller' }],
  },
  {
    name: 'GKE (managed)',
    controllers: /^k8s\.io\/ingress-gce$|^networking\.gke\.io\//,
    images: /$^/,
    labels: [],
    external: true,
  },
];

export function controllerSignature(controller: string): ControllerSignature | undefined {
  return CONTROLLERS.find((c) => c.controllers.test(controller));
}

const podRef = (p: Pod) => `pod/${p.namespace}/${p.name}`;

export interface ControllerPods {
  signature: ControllerSignature | undefined;
  /** Running and ready pods of the controller. */
  running: Pod[];
  /** Pods of the controller that exist but are not running and ready. */
  notRunning: Pod[];
  evidence: string[];
}

function isControllerPod(sig: ControllerSignature, pod: Pod): boolean {
  if (pod.containers.some((c) => c.image && sig.images.test(c.image))) return true;
  return sig.labels.some((l) => matchesEquality(l, pod.labels));
}

/** The pods that implement `controller` (an IngressClass / GatewayClass controller string). */
export function controllerPods(model: ClusterModel, controller: string): ControllerPods {
  const signature = controllerSignature(controller);
  if (!signature || signature.external) return { signature, running: [], notRunning: [], evidence: [] };
  const pods = model.pods.filter((p) => isControllerPod(signature, p));
  const running = pods.filter((p) => p.phase === 'Running' && p.ready && !p.terminating);
  const notRunning = pods.filter((p) => !running.includes(p));
  const describe = (p: Pod) => {
    const image = p.containers.find((c) => c.image && signature.images.test(c.image))?.image;
    return `${podRef(p)} on ${p.nodeName ?? '(unscheduled)'}: ${p.phase}, Ready=${p.ready ? 'True' : 'False'}${image ? ` (image ${image})` : ''}`;
  };
  return { signature, running, notRunning, evidence: pods.slice(0, 5).map(describe) };
}

/** Services whose selector picks some of these pods: LoadBalancer first, then NodePort. */
export function servicesFronting(model: ClusterModel, pods: readonly Pod[]): Service[] {
  const rank = (s: Service) => (s.type === 'LoadBalancer' ? 0 : s.type === 'NodePort' ? 1 : 2);
  const namespaces = [...new Set(pods.map((p) => p.namespace))];
  const out: Service[] = [];
  for (const ns of namespaces) {
    for (const svc of model.servicesInNamespace(ns)) {
      if (!svc.selector) continue;
      if (pods.some((p) => p.namespace === ns && matchesEquality(svc.selector ?? {}, p.labels)))
        out.push(svc);
    }
  }
  return out.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
}

/** The ControllerSummary document part: the class, its controller's pods and its entry Services. */
export function controllerSummary(
  className: string,
  controller: string,
  pods: ControllerPods,
  services: readonly Service[],
  evidence: string[],
): ControllerSummary {
  return {
    class: className,
    controller,
    implementation: pods.signature?.name ?? null,
    pods: [...pods.running, ...pods.notRunning].map((p) => ({
      namespace: p.namespace,
      name: p.name,
      node: p.nodeName ?? null,
      ip: p.ips[0] ?? null,
      ready: pods.running.includes(p),
    })),
    services: services.map((s) => ({
      namespace: s.namespace,
      name: s.name,
      type: s.type,
      clusterIPs: s.clusterIPs,
      loadBalancerIPs: s.loadBalancerIPs,
      nodePorts: s.ports.map((p) => p.nodePort).filter((n): n is number => n !== undefined),
      externalTrafficPolicy: s.externalTrafficPolicy,
    })),
    evidence: [...evidence, ...pods.evidence],
  };
}
