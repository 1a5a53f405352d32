// Host and path matching as the Ingress (networking.k8s.io/v1) and Gateway API specifications
// define it. Pure string logic; no model.

/** Lower-case host without a port or a trailing dot. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.replace(/\]:\d+$/, ']');
  const colon = h.lastIndexOf(':');
  if (colon > 0 && /^\d+$/.test(h.slice(colon + 1))) h = h.slice(0, colon);
  return h.replace(/\.$/, '');
}

/**
 * Whether a rule host (exact, or a "*.example.com" wildcard that covers exactly one DNS label)
 * matches a request host. An absent rule host matches every host.
 */
export function hostMatches(ruleHost: string | undefined | null, requestHost: string): boolean {
  if (!ruleHost) return true;
  const rule = normalizeHost(ruleHost);
  const req = normalizeHost(requestHost);
  if (rule.startsWith('*.')) {
    const suffix = rule.slice(1); // ".example.com"
    if (!req.endsWith(suffix)) return false;
    const label = req.slice(0, req.length - suffix.length);
    return label.length > 0 && !label.includes('.');
  }
  return rule === req;
}

/** How specific a matching host rule is: exact 2, wildcard 1, none 0 (the spec's precedence). */
export function hostRank(ruleHost: string | undefined | null): number {
  if (!ruleHost) return 0;
  return ruleHost.startsWith('*.') ? 1 : 2;
}

/**
 * Gateway API hostnames: a "*.example.com" wildcard matches any number of leading labels
 * (foo.example.com and foo.bar.example.com), never example.com itself.
 */
export function gatewayHostMatches(pattern: string | undefined | null, requestHost: string): boolean {
  if (!pattern) return true;
  const p = normalizeHost(pattern);
  const req = normalizeHost(requestHost);
  if (p.startsWith('*.')) return req.endsWith(p.slice(1)) && req.length > p.length - 1;
  return p === req;
}

/** Two Gateway API host patterns that some request host matches both (listener vs route). */
export function hostsIntersect(a: string | undefined | null, b: string | undefined | null): boolean {
  if (!a || !b) return true;
  const x = normalizeHost(a);
  const y = normalizeHost(b);
  if (!x.startsWith('*.')) return gatewayHostMatches(y, x);
  if (!y.startsWith('*.')) return gatewayHostMatches(x, y);
  // Two wildcards intersect when one suffix contains the other.
  return x.endsWith(y.slice(1)) || y.endsWith(x.slice(1));
}

/** A path's elements: "/foo//bar/" → ["foo", "bar"]. */
export function pathElements(path: string): string[] {
  return path.split('/').filter((e) => e !== '');
}

/** A Prefix path as the spec compares it: the trailing slash is ignored ("/foo/" ≡ "/foo"). */
export function canonicalPrefix(path: string): string {
  return `/${pathElements(path).join('/')}`;
}

/**
 * Prefix matching element by element: "/foo" matches "/foo", "/foo/" and "/foo/bar", not
 * "/foobar". "/" matches every path.
 */
export function prefixMatches(prefix: string, requestPath: string): boolean {
  const p = pathElements(prefix);
  const r = pathElements(requestPath);
  if (p.length > r.length) return false;
  return p.every((e, i) => e === r[i]);
}

export type PathKind = 'Exact' | 'Prefix' | 'Regex';

export interface PathMatch {
  kind: PathKind;
  value: string;
}

/** Does the path match the request path? undefined: cannot tell (an invalid regex). */
export function pathMatches(m: PathMatch, requestPath: string): boolean | undefined {
  if (m.kind === 'Exact') return m.value === requestPath;
  if (m.kind === 'Prefix') return prefixMatches(m.value, requestPath);
  try {
    return new RegExp(`^(?:${m.value})`).test(requestPath);
  } catch {
    return undefined;
  }
}

/**
 * Ordering key among matching paths: Exact first, then the longest prefix (in characters of the
 * canonical path), regexes last. Larger is more specific.
 */
export function pathSpecificity(m: PathMatch): number {
  if (m.kind === 'Exact') return 1_000_000 + m.value.length;
  if (m.kind === 'Prefix') return 1000 + canonicalPrefix(m.value).length;
  return m.value.length;
}
