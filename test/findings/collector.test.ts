// The one findings collector: each finding once, sorted, and a document's ids, links and fixes
// computed over that document alone (a finding taken from another document is explained anew).
import { describe, expect, it } from 'vitest';
import { finding } from '../../src/findings/catalog.js';
import { collectFindings, FindingCollector } from '../../src/findings/collector.js';

const reject = (node: string) =>
  finding('PROXY_REJECT', {
    message: `kube-proxy on ${node} rejects traffic to shop/cart:http.`,
    objects: ['svc/shop/cart', `node/${node}`],
  });
const noMatch = () =>
  finding('SVC_NO_SELECTOR_MATCH', { message: 'The selector matches no pod.', objects: ['svc/shop/cart'] });
const notReady = () =>
  finding('POD_NOT_READY', { message: 'Pod shop/cart-1 is not ready.', objects: ['pod/shop/cart-1'] });

describe('FindingCollector', () => {
  it('keeps a finding reported twice (same code and message) once, the first one', () => {
    const c = new FindingCollector();
    const a = reject('a');
    expect(c.add(a)).toBe('PROXY_REJECT');
    c.add({ ...reject('a'), evidence: ['another rule'] });
    c.add(reject('b'));
    const out = c.sorted();
    expect(out.map((f) => f.message)).toEqual([a.message, reject('b').message]);
    expect(out[0].evidence).toBeUndefined();
  });

  it('sorts by severity, then code, keeping the order of equal ones', () => {
    const out = collectFindings([notReady(), reject('b'), noMatch(), reject('a')]);
    expect(out.map((f) => `${f.code} ${f.objects.at(-1)}`)).toEqual([
      'PROXY_REJECT node/b',
      'PROXY_REJECT node/a',
      'SVC_NO_SELECTOR_MATCH svc/shop/cart',
      'POD_NOT_READY pod/shop/cart-1',
    ]);
  });

  it('gives a finished document ids, links and fixes, and leaves the inputs untouched', () => {
    const inputs = [reject('a'), noMatch()];
    const out = collectFindings(inputs);
    for (const f of inputs) expect(Object.keys(f)).not.toContain('id');
    const [rej, cause] = out;
    expect(rej.id).toMatch(/^PROXY_REJECT-[0-9a-f]{10}$/);
    expect(rej.causedBy).toEqual([cause.id]);
    expect(rej.fix).toBeUndefined();
    expect(cause.causedBy).toBeUndefined();
    expect(cause.fix?.summary).toMatch(/selector of svc\/shop\/cart/);
  });

  it('explains a finding taken from another document anew: its old links and fix go', () => {
    // Alone, PROXY_REJECT is a root with a fix; next to its cause it is a consequence.
    const [alone] = collectFindings([reject('a')]);
    expect(alone.fix?.summary).toMatch(/Give svc\/shop\/cart a ready endpoint/);
    const stale = { ...alone, causedBy: ['GONE-0000000000'] };
    const out = collectFindings([stale, noMatch()]);
    const rej = out.find((f) => f.code === 'PROXY_REJECT')!;
    expect(rej.fix).toBeUndefined();
    expect(rej.causedBy).toEqual([out.find((f) => f.code === 'SVC_NO_SELECTOR_MATCH')!.id]);
    // The id depends on the document's content, not on what the finding carried.
    expect(rej.id).toBe(alone.id);
    expect(alone.causedBy).toBeUndefined();
  });

  it('finish narrows before it links: a kept finding never links to one left out', () => {
    const c = new FindingCollector();
    c.addAll([reject('a'), noMatch()]);
    const out = c.finish(undefined, (f) => f.code === 'PROXY_REJECT');
    expect(out).toHaveLength(1);
    expect(out[0].causedBy).toBeUndefined();
    expect(out[0].fix?.summary).toBeTruthy();
  });
});
