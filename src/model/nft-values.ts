// nftables values as the evaluator reads them. A ruleset keeps nft's JSON expressions as they
// are (analyses/proxy/nft-eval.ts interprets them); what has to be parsed out of them on the
// way goes through here, with the parser's own readers: a scalar's text, and the inline sets
// of a rule (`ip daddr { … }`, `vmap { … }`), parsed on first use and kept per expression.
import { ipOrNull } from '../core/ip.js';
import { elementKey, type NftElement, type NftSet, parseElement } from '../parsers/nft.js';

export { scalarText } from '../parsers/nft.js';

function canonical(v: string): string {
  const a = ipOrNull(v);
  return a ? a.toString() : v;
}

/** The key of a tuple of values in a set's exact index: addresses in canonical form. */
export function elementLookupKey(values: string[]): string {
  return elementKey(values.map(canonical));
}

const inlineSets = new WeakMap<object, Pick<NftSet, 'exact' | 'ranged'>>();

/** The elements of an inline set, indexed like a named set's; `holder` is the expression it belongs to. */
export function inlineSet(raw: unknown[], isMap: boolean, holder: object): Pick<NftSet, 'exact' | 'ranged'> {
  let s = inlineSets.get(holder);
  if (!s) {
    const exact = new Map<string, NftElement>();
    const ranged: NftElement[] = [];
    for (const r of raw) {
      const el = parseElement(r, isMap);
      if (el.key.every((p) => p.kind === 'value'))
        exact.set(elementLookupKey(el.key.map((p) => (p as { value: string }).value)), el);
      else ranged.push(el);
    }
    s = { exact, ranged };
    inlineSets.set(holder, s);
  }
  return s;
}
