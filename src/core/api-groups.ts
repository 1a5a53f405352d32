// API group names shared by the readers (sources/kube) and the model.

/** The Gateway API's group (Gateway, GatewayClass, HTTPRoute, ReferenceGrant). */
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
