// One collection or one object of the Kubernetes API, as knet keeps them: the raw JSON with
// kind/apiVersion set and what no analysis reads stripped. Lists go page by page (limit/continue).
import type { Raw } from '../../model/normalize.js';
import type { KubeClient, RequestAction } from './client.js';
import { apiVersionOf, qualifiedResource, type ResourceInfo, resourcePath } from './resources.js';
import { stripObject } from './strip.js';

export const DEFAULT_PAGE_SIZE = 500;

export interface ListOptions {
  pageSize?: number;
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
  let limit: number | undefined = opts.pageSize ?? DEFAULT_PAGE_SIZE;
  let out: Raw[] = [];
  let token: string | undefined;
  for (;;) {
    const res = await client.get(path, {
      query: { limit, continue: token, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector },
      action,
      accept: token ? [410] : [],
    });
    if (res.status === 410) {
      // The continue token expired (a long read of a busy cluster): as client-go's pager,
      // read the whole collection in one consistent list instead.
      out = [];
      token = undefined;
      limit = undefined;
      continue;
    }
    const items: Raw[] = Array.isArray(res.body?.items) ? res.body.items : [];
    for (const item of items) out.push(asObject(item, r.kind, apiVersion));
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
