// The class an Ingress or a Gateway names (IngressClass, GatewayClass), the controller it names
// and whether that controller runs: INGRESS_CLASS_MISSING and INGRESS_NO_CONTROLLER for both.

import { closeNames } from '../../core/similar-names.js';
import { finding } from '../../findings/catalog.js';
import type { Finding } from '../../findings/types.js';
import type { ClusterModel } from '../../model/cluster.js';
import type { Condition, Gateway, Ingress, IngressClass, Pod } from '../../model/types.js';
import { controllerPods, controllerSummary, servicesFronting } from './controllers.js';
import type { ControllerSummary } from './types.js';

const ingRef = (i: { namespace: string; name: string }) => `ing/${i.namespace}/${i.name}`;
const gwRef = (g: Gateway) => `gateway/${g.namespace}/${g.name}`;

/** "Accepted=True (Accepted): message" */
export function conditionText(c: Condition): string {
  return `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`;
}

export interface ClassCheck {
  /** The class name, when the object names one. */
  className?: string;
  controller: ControllerSummary | null;
  findings: Finding[];
  notes: string[];
}

/** The Ingress's class, its controller and the controller's pods. */
export function ingressClassCheck(model: ClusterModel, ingress: Ingress): ClassCheck {
  const ref = ingRef(ingress);
  const findings: Finding[] = [];
  const notes: string[] = [];
  const fromAnnotation = !ingress.annotations['kubernetes.io/ingress.class']
    ? false
    : ingress.className === ingress.annotations['kubernetes.io/ingress.class'];
  let cls: IngressClass | undefined;
  if (ingress.className) {
    cls = model.ingressClasses.find((c) => c.name === ingress.className);
    if (!cls) {
      const close = closeNames(
        ingress.className,
        model.ingressClasses.map((c) => c.name),
      );
      const known = model.ingressClasses.map((c) => c.name).join(', ') || 'none';
      if (fromAnnotation) {
        notes.push(
          `The class comes from the deprecated kubernetes.io/ingress.class annotation and no IngressClass ${ingress.className} exists: only a controller started with --ingress-class=${ingress.className} serves it.`,
        );
      } else {
        findings.push(
          finding('INGRESS_CLASS_MISSING', {
            message: `Ingress ${ingress.namespace}/${ingress.name} asks for IngressClass ${ingress.className}, which does not exist${close.length ? `; did you mean ${close.join(', ')}?` : ''}: no controller serves it.`,
            objects: [ref, `ingressclass/${ingress.className}`],
            evidence: [`${ref} spec.ingressClassName: ${ingress.className}`, `IngressClasses: ${known}`],
          }),
        );
      }
      return {
        className: ingress.className,
        controller: {
          class: ingress.className,
          controller: null,
          implementation: null,
          pods: [],
          services: [],
          evidence: [],
        },
        findings,
        notes,
      };
    }
  } else {
    const defaults = model.ingressClasses.filter((c) => c.isDefault);
    if (defaults.length === 1) {
      cls = defaults[0];
      notes.push(
        `The Ingress names no class; IngressClass ${cls.name} is the default (ingressclass.kubernetes.io/is-default-class).`,
      );
    } else {
      findings.push(
        finding('INGRESS_NO_CONTROLLER', {
          message:
            defaults.length === 0
              ? `Ingress ${ingress.namespace}/${ingress.name} names no IngressClass and none is the default: no controller is bound to serve it.`
              : `Ingress ${ingress.namespace}/${ingress.name} names no IngressClass and ${defaults.length} classes claim to be the default: the API server rejects new Ingresses without a class, and which controller serves this one is undefined.`,
          objects: [ref],
          evidence: [
            `${ref}: no spec.ingressClassName and no kubernetes.io/ingress.class annotation`,
            `IngressClasses: ${model.ingressClasses.map((c) => `${c.name}${c.isDefault ? ' (default)' : ''}`).join(', ') || 'none'}`,
          ],
          hint: 'Set spec.ingressClassName (kubectl get ingressclass lists them), or mark one class as the default.',
        }),
      );
      return { controller: null, findings, notes };
    }
  }
  const pods = controllerPods(model, cls.controller);
  const services = servicesFronting(model, pods.running.length ? pods.running : pods.notRunning);
  const summary = controllerSummary(cls.name, cls.controller, pods, services, [
    `ingressclass/${cls.name}: controller ${cls.controller}`,
  ]);
  if (!pods.signature) {
    notes.push(`knet does not know the controller ${cls.controller}: whether it runs is unknown.`);
  } else if (pods.signature.external) {
    notes.push(
      `${pods.signature.name} runs outside the cluster (a managed load balancer): knet cannot see its data plane.`,
    );
  } else if (pods.running.length === 0) {
    findings.push(
      finding('INGRESS_NO_CONTROLLER', {
        message: `No ${pods.signature.name} controller pod is running and ready for IngressClass ${cls.name} (controller ${cls.controller}): nothing serves Ingress ${ingress.namespace}/${ingress.name}.`,
        objects: [ingRef(ingress), `ingressclass/${cls.name}`],
        evidence:
          summary.evidence.length > 1
            ? summary.evidence
            : [
                ...summary.evidence,
                `no pod with an image like ${pods.signature.images.source} or its standard labels`,
              ],
      }),
    );
  }
  return { className: cls.name, controller: summary, findings, notes };
}

/** The Gateway's data-plane pods: labelled with the Gateway's name (GEP-1762), else the controller's. */
function dataPlanePods(model: ClusterModel, gw: Gateway, controller: readonly Pod[]): readonly Pod[] {
  const labelled = model.pods.filter(
    (p) =>
      p.labels['gateway.networking.k8s.io/gateway-name'] === gw.name ||
      p.labels['gateway.envoyproxy.io/owning-gateway-name'] === gw.name ||
      p.labels['istio.io/gateway-name'] === gw.name,
  );
  return labelled.length ? labelled : controller;
}

/** The Gateway's class, its controller and the data plane's way in; `owner` joins the findings' objects. */
export function gatewayClassCheck(model: ClusterModel, gw: Gateway, owner: string): ClassCheck {
  const className = gw.className;
  const findings: Finding[] = [];
  if (!className) return { controller: null, findings, notes: [] };
  const gc = model.gatewayClass(className);
  if (!gc) {
    const known = model.gatewayClasses.map((c) => c.name);
    const close = closeNames(className, known);
    findings.push(
      finding('INGRESS_CLASS_MISSING', {
        message: `Gateway ${gw.namespace}/${gw.name} uses GatewayClass ${className}, which does not exist${close.length ? `; did you mean ${close.join(', ')}?` : ''}: no controller programs it.`,
        objects: [gwRef(gw), owner, `gatewayclass/${className}`],
        evidence: [
          `${gwRef(gw)} spec.gatewayClassName: ${className}`,
          `GatewayClasses: ${known.join(', ') || 'none'}`,
        ],
      }),
    );
    return { className, controller: null, findings, notes: [] };
  }
  const accepted = gc.conditions.find((c) => c.type === 'Accepted');
  const pods = controllerPods(model, gc.controller);
  const services = servicesFronting(model, dataPlanePods(model, gw, pods.running));
  const controller = controllerSummary(className, gc.controller, pods, services, [
    `gatewayclass/${className}: controllerName ${gc.controller}${accepted ? `, ${conditionText(accepted)}` : ', no Accepted condition'}`,
  ]);
  const noPods = pods.signature && !pods.signature.external && pods.running.length === 0;
  const notAccepted = accepted?.status !== 'True';
  if (noPods || (!pods.signature && notAccepted)) {
    findings.push(
      finding('INGRESS_NO_CONTROLLER', {
        message: noPods
          ? `No ${pods.signature?.name} controller pod is running and ready for GatewayClass ${className} (controller ${gc.controller}): nothing programs Gateway ${gw.namespace}/${gw.name}.`
          : `GatewayClass ${className} (controller ${gc.controller}) has not been accepted by any controller${accepted ? ` (${conditionText(accepted)})` : ''}: nothing programs Gateway ${gw.namespace}/${gw.name}.`,
        objects: [`gatewayclass/${className}`, gwRef(gw), owner],
        evidence: controller.evidence,
      }),
    );
  }
  return { className, controller, findings, notes: [] };
}
