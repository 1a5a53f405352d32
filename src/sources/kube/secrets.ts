// Secret names, never Secret data: an Ingress's TLS section names a Secret, and whether it
// exists is all knet checks. The list asks for the API's metadata-only representation and
// keeps name and namespace alone. Reading them is optional: without permission, or from a
// server that cannot answer metadata-only, the TLS check is skipped with a warning.
import type { Raw } from '../../model/normalize.js';
import { ApiError, type KubeClient } from './client.js';
import { listAll } from './list.js';
import { RESOURCES } from './resources.js';

export interface SecretNames {
  /** Secret objects with metadata.name and metadata.namespace only. */
  raws: Raw[];
  warning?: string;
  /** RBAC does not allow listing them. */
  forbidden?: boolean;
}

export async function listSecretNames(
  client: KubeClient,
  namespace: string | undefined,
  pageSize?: number,
  optional = true,
): Promise<SecretNames> {
  try {
    return { raws: await listAll(client, RESOURCES.secrets, namespace, { pageSize, namesOnly: true }) };
  } catch (err) {
    if (!(err instanceof ApiError) || (err.status !== 403 && err.status !== 406) || !optional) throw err;
    const where = namespace ? `in namespace ${namespace}` : 'at the cluster scope';
    const why =
      err.status === 403
        ? `no permission to list secrets ${where}`
        : `the API server does not list secrets metadata-only ${where}, and knet never reads Secret data`;
    return {
      raws: [],
      warning: `TLS Secrets not checked: ${why} (see docs/rbac.md)`,
      forbidden: err.status === 403,
    };
  }
}
