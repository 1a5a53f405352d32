// One collection or one object of the Kubernetes API, as knet keeps them: the raw JSON with
// kind/apiVersion set and what no analysis reads stripped. Lists go page by page (limit/continue).
import { UserError } from '../../core/errors.js';
import type { Raw } from '../../model/normalize.js';
import { ApiError, type KubeClient, type RequestAction } from './client.js';
import { apiVersionOf, qualifiedResource, type ResourceInfo, resourcePath } from './resources.js';
import { stripObject } from './strip.js';

export const DEFAULT_PAGE_SIZE = 500;

/** The API's metadata-only list: the objects' metadata, never their body (a Secret's data). */
export const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';

export interface ListOptions {
  pageSize?: number;
  /**
   * Ask for a PartialObjectMetadataList and keep only each object's name and namespace (the
   * metadata may still carry data, e.g. a last-applied annotation). A server that does not
   * serve it answers 406, which is thrown as an ApiError like any other status.
   */
  namesOnly?: boolean;
  labelSelector?: string;
  fieldSelector?: string;
  /** Called after every page with the number of objects so far. */
  onPage?: (count: number) => void;
}

/** Sets kind/apiVersion on a list item (the API omits them) and strips what no analysis reads. */
function asObject(item: Raw, kind: string, apiVersion: string): Raw {
  const { kind: k, apiVersion: v, ...rest } = item;
  return stripObject({ apiVersion: v ?? apiVersion, kind: k ?? kind, ...rest });
}

/** Only kind, apiVersion, name and namespace: nothing else of the object is kept. */
function nameOnly(item: Raw, kind: string, apiVersion: string): Raw {
  const { name, namespace } = item?.metadata ?? {};
  return { apiVersion, kind, metadata: namespace === undefined ? { name } : { name, namespace } };
}

/** Every object of a collection, page by page; restarts unpaginated if the continue token expires. */
export async function listAll(
  client: KubeClient,
  r: Pick<ResourceInfo, 'group' | 'version' | 'resource' | 'kind'>,
  namespace: string | undefined,
  opts: ListOptions = {},
): Promise<Raw[]> {
  const path = resourcePath(r, namespace);
  const action: RequestAction = { verb: 'list', resource: qualifiedResource(r), namespace };
  const apiVersion = apiVersionOf(r);
  const toObject = opts.namesOnly ? nameOnly : asObject;
  let limit: number | undefined = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  let out: Raw[] = [];
  let token: string | undefined;
  for (;;) {
    const res = await client.get(path, {
      query: { limit, continue: token, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector },
      action,
      accept: token ? [410] : [],
      mediaType: opts.namesOnly ? METADATA_LIST : undefined,
    });
    if (res.status === 410) {
      // The continue token expired (a long read of a busy cluster): as client-go's pager,
      // read the whole collection in one consistent list instead.
      out = [];
      token = undefined;
      limit = undefined;
      continue;
    }
    if (opts.namesOnly && res.body?.kind !== 'PartialObjectMetadataList') {
      // A server that ignored the Accept header sent the full objects: keep nothing of them.
      throw new ApiError(`the API server at ${client.server} does not serve metadata-only lists`, 406);
    }
    if (!Array.isArray(res.body?.items) && res.body?.items !== null) {
      // An object, but not a list (a wrong URL that a proxy answers with some other JSON).
      throw new UserError(
        `the API server at ${client.server} answered ${res.status} with a ${String(res.body?.kind)} that has no items, not a list, to list ${qualifiedResource(r)}`,
      );
    }
    const items: Raw[] = Array.isArray(res.body?.items) ? res.body.items : [];
    for (const item of items) out.push(toObject(item, r.kind, apiVersion));
    opts.onPage?.(out.length);
    token =
      typeof res.body?.metadata?.continue === 'string' && res.body.metadata.continue
        ? res.body.metadata.continue
        : undefined;
    if (!token || limit === undefined) return out;
  }
}

/** One object, or undefined when it does not exist. */
export async function getObject(
  client: KubeClient,
  r: Pick<ResourceInfo, 'group' | 'version' | 'resource' | 'kind'>,
  namespace: string | undefined,
  name: string,
): Promise<Raw | undefined> {
  const res = await client.get(resourcePath(r, namespace, name), {
    action: { verb: 'get', resource: qualifiedResource(r), namespace, name },
    accept: [404],
  });
  return res.status === 404 ? undefined : asObject(res.body, r.kind, apiVersionOf(r));
}
