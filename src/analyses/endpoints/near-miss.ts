// Why a Service's selector matches nothing (or fewer pods than their owner has): pods that miss
// by one key or one value, pods of the same owner that miss, pods in other namespaces that match
// fully, and selector keys no pod carries.

import { isSimilar } from '../../core/similar-names.js';
import type { ClusterModel } from '../../model/cluster.js';
import { isTerminal } from '../../model/pods.js';
import type { Labels, Pod } from '../../model/types.js';
import type { LabelDifference, NearMisses, NearMissGroup } from './types.js';

const MAX_GROUPS = 10;
const MAX_PODS_LISTED = 20;

// ReplicaSet names are the Deployment's name plus a pod-template-hash from this alphabet.
const REPLICASET_HASH = /^(.+)-[bcdfghjklmnpqrstvwxz2456789]{5,10}$/;

type Owner = Pod['ownerReferences'][number];

/** The pod's controller (else its first owner), which its family follows. */
const ownerOf = (pod: Pod): Owner | undefined =>
  pod.ownerReferences.find((o) => o.controller) ?? pod.ownerReferences[0];

function familyOfOwner(
  namespace: string,
  owner: Owner,
  replicaSetOwners: ReadonlyMap<string, string>,
): string {
  if (owner.kind === 'ReplicaSet') {
    const deployment = replicaSetOwners.get(`${namespace}/${owner.name}`);
    if (deployment) return `Deployment/${deployment}`;
    const m = REPLICASET_HASH.exec(owner.name);
    if (m) return `Deployment/${m[1]}`;
  }
  return `${owner.kind}/${owner.name}`;
}

/** The controller family a pod belongs to: Deployment/NAME for ReplicaSet pods, else KIND/NAME. */
export function ownerFamily(pod: Pod, replicaSetOwners: ReadonlyMap<string, string>): string | undefined {
  const owner = ownerOf(pod);
  return owner && familyOfOwner(pod.namespace, owner, replicaSetOwners);
}

/** ReplicaSet → Deployment name, from ReplicaSet objects when the source holds them. */
export function replicaSetOwners(model: ClusterModel, namespace: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const o of model.others) {
    if (o.kind !== 'ReplicaSet' || o.namespace !== namespace) continue;
    const refs: unknown = (o.raw.metadata as { ownerReferences?: unknown } | undefined)?.ownerReferences;
    if (!Array.isArray(refs)) continue;
    const dep = refs.find(
      (r) => r && typeof r === 'object' && (r as { kind?: unknown }).kind === 'Deployment',
    );
    if (dep && typeof dep.name === 'string') map.set(`${namespace}/${o.name}`, dep.name);
  }
  return map;
}

/** How each selector entry the pod fails differs from the pod's labels. */
export function labelDifferences(selector: Labels, labels: Labels): LabelDifference[] {
  const out: LabelDifference[] = [];
  for (const [key, value] of Object.entries(selector)) {
    if (labels[key] === value) continue;
    if (Object.hasOwn(labels, key)) {
      out.push({ selectorKey: key, selectorValue: value, podKey: key, podValue: labels[key] });
      continue;
    }
    // A mistyped key: a similar key, best with the same value, else with a similar value.
    const similarKeys = Object.keys(labels).filter((k) => !Object.hasOwn(selector, k) && isSimilar(k, key));
    const typo =
      similarKeys.find((k) => labels[k] === value) ?? similarKeys.find((k) => isSimilar(labels[k], value));
    out.push({
      selectorKey: key,
      selectorValue: value,
      podKey: typo ?? null,
      podValue: typo === undefined ? null : labels[typo],
    });
  }
  return out;
}

/** How many selector entries the labels fail (labelDifferences' length, without the typo search). */
function misses(selector: Labels, labels: Labels): number {
  let n = 0;
  for (const key in selector) if (labels[key] !== selector[key]) n++;
  return n;
}

/** A one-label miss worth showing: a typo, or a miss where every other selector entry matched. */
function isRelevantOneOff(diff: LabelDifference, selectorSize: number): boolean {
  if (diff.podKey === null) return selectorSize >= 2;
  if (diff.podKey !== diff.selectorKey) return true; // similar key, found by labelDifferences
  return selectorSize >= 2 || isSimilar(diff.podValue ?? '', diff.selectorValue);
}

/** A group whose difference looks like a typo (a similar key or a similar value). */
export function isTypoLike(group: NearMissGroup): boolean {
  return group.differences.some(
    (d) =>
      (d.podKey !== null && d.podKey !== d.selectorKey) ||
      (d.podValue !== null && isSimilar(d.podValue, d.selectorValue)),
  );
}

/** Typo-like groups sort before plain differences. */
const typoScore = (group: NearMissGroup) => (isTypoLike(group) ? 0 : 1);

/** One namespace's pods by controller family, computed once per model and namespace. */
interface FamilyIndex {
  /** ownerFamily of a pod of the namespace (its owner's family, worked out once per owner). */
  familyOf(pod: Pod): string | undefined;
  /** ownerFamily of each pod of podsInNamespace, by position. */
  families: (string | undefined)[];
  /** Family → positions in podsInNamespace, ascending. */
  positions: Map<string, number[]>;
}

const familyIndexes = new WeakMap<ClusterModel, Map<string, FamilyIndex>>();

function familyIndex(model: ClusterModel, namespace: string): FamilyIndex {
  let perModel = familyIndexes.get(model);
  if (!perModel) {
    perModel = new Map();
    familyIndexes.set(model, perModel);
  }
  let index = perModel.get(namespace);
  if (!index) {
    const rsOwners = replicaSetOwners(model, namespace);
    // Owner kind → name → family: the pods of one ReplicaSet share it (no regex per pod).
    const byOwner = new Map<string, Map<string, string>>();
    const familyOf = (pod: Pod): string | undefined => {
      const owner = ownerOf(pod);
      if (!owner) return undefined;
      let names = byOwner.get(owner.kind);
      if (!names) {
        names = new Map();
        byOwner.set(owner.kind, names);
      }
      let family = names.get(owner.name);
      if (family === undefined) {
        family = familyOfOwner(namespace, owner, rsOwners);
        names.set(owner.name, family);
      }
      return family;
    };
    const families = model.podsInNamespace(namespace).map(familyOf);
    const positions = new Map<string, number[]>();
    families.forEach((f, i) => {
      if (f === undefined) return;
      const list = positions.get(f);
      if (list) list.push(i);
      else positions.set(f, [i]);
    });
    index = { familyOf, families, positions };
    perModel.set(namespace, index);
  }
  return index;
}

/** Said when near misses could not be searched: the model holds only the pods on a path. */
export function nearMissesNotSearched(service: { namespace: string; name: string }): string {
  return `Near misses of the selector were not searched: a live trace reads only the pods on its path (knet endpoints svc/${service.namespace}/${service.name} shows them).`;
}

export function findNearMisses(
  model: ClusterModel,
  namespace: string,
  selector: Labels,
  matched: readonly Pod[],
): NearMisses {
  // Siblings, one-offs and keys no pod carries need every pod of the namespace (and others).
  if (model.coverage === 'path') return { inNamespace: [], otherNamespaces: [], keysOnNoPod: [] };
  const selectorSize = Object.keys(selector).length;
  const index = familyIndex(model, namespace);
  const families = new Set<string>();
  let owned = 0;
  for (const p of matched) {
    const f = index.familyOf(p);
    if (f !== undefined) {
      families.add(f);
      owned++;
    }
  }
  const nsPods = model.podsInNamespace(namespace);
  // With matches, only pods of the matched pods' owners can be near misses ('sibling'): visit
  // those, in namespace order, instead of every pod of the namespace for every service.
  let candidates: Iterable<number>;
  if (families.size === 1) {
    // One owner (the common case): its positions are in namespace order already.
    const [only] = families;
    const positions = index.positions.get(only) ?? [];
    // The matched pods are pods of the namespace (the label index's), each once: when all of
    // them have this owner and it has no more pods, every candidate matches: no near miss.
    if (owned === matched.length && positions.length === matched.length)
      return { inNamespace: [], otherNamespaces: [], keysOnNoPod: [] };
    candidates = positions;
  } else if (matched.length > 0) {
    const positions: number[] = [];
    for (const f of families) for (const i of index.positions.get(f) ?? []) positions.push(i);
    candidates = positions.sort((a, b) => a - b);
  } else {
    candidates = nsPods.keys();
  }

  const matchedNames = new Set<string>();
  for (const p of matched) matchedNames.add(p.name);
  const groups = new Map<string, NearMissGroup & { all: string[] }>();
  for (const i of candidates) {
    const pod = nsPods[i];
    if (matchedNames.has(pod.name) || isTerminal(pod)) continue;
    const family = index.families[i];
    const sibling = family !== undefined && families.has(family);
    // Without matches, a pod that misses by more than one entry is nothing to explain.
    if (!sibling && (matched.length > 0 || misses(selector, pod.labels) !== 1)) continue;
    const diffs = labelDifferences(selector, pod.labels);
    let reason: NearMissGroup['reason'] | undefined;
    if (sibling) reason = 'sibling';
    else if (matched.length === 0 && diffs.length === 1 && isRelevantOneOff(diffs[0], selectorSize)) {
      reason = 'one-off';
    }
    if (!reason) continue;
    const signature = JSON.stringify([reason, family ?? null, diffs]);
    let group = groups.get(signature);
    if (!group) {
      group = { reason, owner: family ?? null, differences: diffs, pods: [], count: 0, all: [] };
      groups.set(signature, group);
    }
    group.all.push(pod.name);
  }
  const inNamespace = [...groups.values()]
    .map(({ all, ...g }) => {
      const sorted = all.sort();
      return { ...g, pods: sorted.slice(0, MAX_PODS_LISTED), count: sorted.length };
    })
    .sort((a, b) => typoScore(a) - typoScore(b) || b.count - a.count || a.pods[0].localeCompare(b.pods[0]))
    .slice(0, MAX_GROUPS);

  const otherNamespaces: NearMisses['otherNamespaces'] = [];
  const keysOnNoPod: string[] = [];
  if (matched.length === 0) {
    // Other namespaces' pods that match fully, through each namespace's label index.
    const byNamespace = new Map<string, string[]>();
    for (const ns of model.namespaces) {
      if (ns.name === namespace) continue;
      const names = model
        .podsMatchingLabels(ns.name, selector)
        .filter((pod) => !isTerminal(pod))
        .map((pod) => pod.name);
      if (names.length > 0) byNamespace.set(ns.name, names);
    }
    for (const [ns, names] of [...byNamespace.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      names.sort();
      otherNamespaces.push({ namespace: ns, pods: names.slice(0, MAX_PODS_LISTED), count: names.length });
    }
    for (const key of Object.keys(selector)) {
      if (!nsPods.some((p) => Object.hasOwn(p.labels, key))) keysOnNoPod.push(key);
    }
  }
  return { inNamespace, otherNamespaces, keysOnNoPod };
}

/** `selector app: frontend vs pod app: fronted` (or `pod no app label`), as shown to the user. */
export function formatDifference(d: LabelDifference): string {
  const pod = d.podKey === null ? `no ${d.selectorKey} label` : `${d.podKey}: ${d.podValue}`;
  return `selector ${d.selectorKey}: ${d.selectorValue} vs pod ${pod}`;
}
