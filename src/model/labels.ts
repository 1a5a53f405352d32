import type { LabelSelector, Labels } from './types.js';

/** Equality-based selector (Service.spec.selector): every key must be present with that value. */
export function matchesEquality(selector: Labels, labels: Labels): boolean {
  for (const key in selector) {
    if (labels[key] !== selector[key]) return false;
  }
  return true;
}

/** metav1.LabelSelector semantics: matchLabels AND every matchExpression; {} matches all. */
export function matchesSelector(selector: LabelSelector, labels: Labels): boolean {
  if (!matchesEquality(selector.matchLabels, labels)) return false;
  for (const req of selector.matchExpressions) {
    const has = Object.hasOwn(labels, req.key);
    switch (req.operator) {
      case 'In':
        if (!has || !req.values.includes(labels[req.key])) return false;
        break;
      case 'NotIn':
        if (has && req.values.includes(labels[req.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

export function isEmptySelector(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0;
}

/** kubectl-style rendering: `app=web,tier in (a,b)`; an empty selector renders as `<all>`. */
export function formatSelector(selector: LabelSelector | Labels): string {
  const sel: LabelSelector =
    'matchLabels' in selector && 'matchExpressions' in selector
      ? (selector as LabelSelector)
      : { matchLabels: selector as Labels, matchExpressions: [] };
  const parts = Object.entries(sel.matchLabels).map(([k, v]) => `${k}=${v}`);
  for (const r of sel.matchExpressions) {
    if (r.operator === 'Exists') parts.push(r.key);
    else if (r.operator === 'DoesNotExist') parts.push(`!${r.key}`);
    else parts.push(`${r.key} ${r.operator === 'In' ? 'in' : 'notin'} (${r.values.join(',')})`);
  }
  return parts.length ? parts.join(',') : '<all>';
}
