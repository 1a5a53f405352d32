// Findings that explain (issue #22): stable ids, cause → consequence links for every
// consequence code, and fixes that are checked: the printed patch, applied to a copy of the
// demo bundle's object, makes the finding go away.
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runDoctor } from '../../src/analyses/doctor.js';
import { diagnoseService } from '../../src/analyses/endpoints/diagnose.js';
import { diagnoseHTTPRoute } from '../../src/analyses/ingress/gateway.js';
import { evaluatePolicy } from '../../src/analyses/policy/evaluate.js';
import { traceConnection } from '../../src/analyses/trace/trace.js';
import { type FindingCode, finding } from '../../src/findings/catalog.js';
import { assignIds, CAUSE_RULES, explainFindings } from '../../src/findings/links.js';
import type { Finding } from '../../src/findings/types.js';
import { buildModel } from '../../src/model/build.js';
import type { ClusterModel } from '../../src/model/cluster.js';
import type { Raw } from '../../src/model/normalize.js';
import { readBundle } from '../../src/sources/bundle/read.js';
import { knet } from '../support/cli.js';

let raws: Raw[];
let nodeFiles: Awaited<ReturnType<typeof readBundle>>['nodeFiles'];
let demo: ClusterModel;

beforeAll(async () => {
  const b = await readBundle('demo');
  raws = [...b.raws];
  nodeFiles = b.nodeFiles;
  demo = buildModel(raws, nodeFiles);
});

// The planted breakages of examples/demo/README.md that doctor sees (a, b, e, f; c is a warning,
// d a question about one connection).
const PLANTED_ROOTS = [
  'GATEWAY_REF_NOT_PERMITTED',
  'INGRESS_BACKEND_PORT_NOT_FOUND',
  'SVC_LABEL_MISMATCH',
  'SVC_TARGET_PORT_MISMATCH',
];

describe('doctor on the demo: root causes, consequences, fixes', () => {
  it('the root errors are exactly the planted causes, each with a fix; every link resolves', () => {
    const r = runDoctor(demo);
    const roots = r.findings.filter((f) => f.severity === 'error' && !f.causedBy);
    expect(roots.map((f) => f.code).sort()).toEqual(PLANTED_ROOTS);
    for (const f of roots) expect(f.fix?.summary).toMatch(/\S/);
    const ids = new Set(r.findings.map((f) => f.id));
    expect(ids.size).toBe(r.findings.length);
    for (const f of r.findings) for (const id of f.causedBy ?? []) expect(ids.has(id)).toBe(true);
    // The six PROXY_REJECT are consequences of the two Services' causes.
    const rejects = r.findings.filter((f) => f.code === 'PROXY_REJECT');
    expect(rejects).toHaveLength(6);
    expect(rejects.every((f) => f.causedBy?.length === 1)).toBe(true);
    const byId = new Map(r.findings.map((f) => [f.id, f]));
    const frontend = rejects.find((f) => f.objects.includes('svc/shop/frontend'))!;
    const noMatch = byId.get(frontend.causedBy![0])!;
    expect(noMatch.code).toBe('SVC_NO_SELECTOR_MATCH');
    expect(byId.get(noMatch.causedBy![0])?.code).toBe('SVC_LABEL_MISMATCH');
    const some = r.findings.find((f) => f.code === 'SVC_SOME_ENDPOINTS_NOT_READY')!;
    expect(byId.get(some.causedBy![0])?.code).toBe('POD_NOT_READY');
  });

  it('ids are the same on every run and do not depend on order', () => {
    const a = runDoctor(demo).findings.map((f) => f.id);
    const again = runDoctor(buildModel(raws, nodeFiles)).findings.map((f) => f.id);
    expect(again).toEqual(a);
    const fs: Finding[] = runDoctor(demo).findings.map(({ id: _id, causedBy: _c, fix: _f, ...f }) => ({
      ...f,
    }));
    const reversed = [...fs].reverse();
    assignIds(fs);
    assignIds(reversed);
    expect(new Set(fs.map((f) => f.id))).toEqual(new Set(reversed.map((f) => f.id)));
  });

  it('doctor -A --json twice gives the same ids; the text leads with root causes and folds the rest', () => {
    const one = JSON.parse(knet(['doctor', '-A', '--json', '--snapshot', 'demo']).stdout);
    const two = JSON.parse(knet(['doctor', '-A', '--json', '--snapshot', 'demo']).stdout);
    expect(two.findings.map((f: Finding) => f.id)).toEqual(one.findings.map((f: Finding) => f.id));
    const text = knet(['doctor', '-A', '--snapshot', 'demo']).stdout;
    expect(text).not.toMatch(/^ERROR PROXY_REJECT/m);
    expect(text).toContain('→ PROXY_REJECT  kube-proxy on 3 nodes rejects traffic to shop/frontend:http');
    expect(text).toContain(
      `kubectl patch service frontend -n shop --type merge -p '{"spec":{"selector":{"app":"frontend"}}}'`,
    );
    expect(text).toMatch(/^11 errors \(4 root causes shown first\), 2 warnings, 3 infos$/m);
    expect(text).toMatch(/ingress and gateway +1 ingress +2/);
  });
});

/** Objects for a consequence/cause pair that the rule relates (demo objects). */
function pair(consequence: string, cause: string, model: ClusterModel): [Finding, Finding] {
  const cart = model.podsInNamespace('shop').find((p) => p.name.startsWith('cart-') && p.nodeName)!;
  const pod = `pod/shop/${cart.name}`;
  const node = `node/${cart.nodeName}`;
  const mk = (code: string, objects: string[], message = `${code} for test`) =>
    finding(code as FindingCode, { message, objects });
  const svc = consequence === 'DNS_NO_RESPONSE' ? 'svc/kube-system/kube-dns' : 'svc/shop/cart';
  const podCause = ['POD_NOT_READY', 'POD_NOT_RUNNING', 'POD_NO_IP'].includes(cause);
  const nodeCause = [
    'NODE_NOT_READY',
    'CNI_CONFIG_MISSING',
    'CNI_CONFIG_INVALID',
    'CNI_CONFIG_CIDR_MISMATCH',
  ].includes(cause);
  const causeObjects = podCause
    ? [pod]
    : nodeCause
      ? [node]
      : cause === 'SVC_NO_LOCAL_ENDPOINTS'
        ? [svc, node]
        : [svc];
  const consObjects = consequence.startsWith('POD_')
    ? [pod]
    : consequence.startsWith('PROXY_')
      ? [svc, node]
      : consequence === 'DNS_NO_RESPONSE'
        ? ['pod/kube-system/coredns']
        : [svc, pod];
  const message = consequence === 'PROXY_ENDPOINT_STALE' ? `sends traffic to ${cart.ips[0]}:8080` : undefined;
  return [mk(consequence, consObjects, message), mk(cause, causeObjects)];
}

describe('cause links, for every consequence code of the catalog', () => {
  for (const [code, { causes }] of Object.entries(CAUSE_RULES)) {
    for (const cause of causes) {
      it(`${code} ← ${cause}`, () => {
        const [cons, c] = pair(code, cause, demo);
        const list = explainFindings([cons, c], demo);
        expect(list[0].causedBy).toEqual([c.id]);
        expect(list[1].causedBy).toBeUndefined();
      });
    }
  }

  it('a consequence of another Service is not linked', () => {
    const a = finding('PROXY_REJECT', { message: 'x', objects: ['svc/shop/cart', 'node/demo-worker'] });
    const b = finding('SVC_TARGET_PORT_MISMATCH', { message: 'y', objects: ['svc/shop/catalog'] });
    explainFindings([a, b], demo);
    expect(a.causedBy).toBeUndefined();
  });
});

// ---- applying a printed fix to the bundle's objects ----

const KINDS: Record<string, string> = {
  service: 'Service',
  ingress: 'Ingress',
  networkpolicy: 'NetworkPolicy',
  pod: 'Pod',
  httproute: 'HTTPRoute',
};
/** List merge keys of the strategic merge patch, as kubectl uses them. */
const MERGE_KEYS: Record<string, string> = { ports: 'port', containers: 'name' };

function mergePatch(target: Raw, patch: Raw, strategic: boolean): Raw {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Raw = target && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (strategic && Array.isArray(v) && Array.isArray(out[k]) && MERGE_KEYS[k]) {
      const key = MERGE_KEYS[k];
      const list = [...out[k]];
      for (const item of v as Raw[]) {
        const i = list.findIndex((x) => x[key] === item[key]);
        if (i >= 0) list[i] = mergePatch(list[i], item, true);
        else list.push(item);
      }
      out[k] = list;
    } else out[k] = mergePatch(out[k], v, strategic);
  }
  return out;
}

function jsonPatch(target: Raw, ops: { op: string; path: string; value?: unknown }[]): Raw {
  const doc = structuredClone(target);
  for (const op of ops) {
    const parts = op.path.split('/').slice(1);
    const last = parts.pop()!;
    let at = doc;
    for (const p of parts) at = at[p];
    if (op.op === 'remove') Array.isArray(at) ? at.splice(Number(last), 1) : delete at[last];
    else if (Array.isArray(at) && last === '-') at.push(op.value);
    else if (Array.isArray(at) && op.op === 'add') at.splice(Number(last), 0, op.value);
    else at[last] = op.value;
  }
  return doc;
}

/** The bundle's objects with a printed fix applied (kubectl patch or kubectl apply of a heredoc). */
function applyFix(objects: Raw[], printed: string): Raw[] {
  const apply = printed.match(/^kubectl apply -f - <<'EOF'\n([\s\S]*)\nEOF$/);
  if (apply) return [...objects, parseYaml(apply[1])];
  let out = objects;
  for (const line of printed.split('\n')) {
    const m = line.match(/^kubectl patch (\S+) (\S+) -n (\S+) --type (strategic|merge|json) -p '(.*)'$/);
    if (!m) throw new Error(`not a kubectl patch: ${line}`);
    const [, kind, name, ns, type, body] = m;
    const patch = JSON.parse(body.replace(/'\\''/g, "'"));
    let hit = 0;
    out = out.map((o) => {
      if (o.kind !== KINDS[kind] || o.metadata?.name !== name || o.metadata?.namespace !== ns) return o;
      hit++;
      return type === 'json' ? jsonPatch(o, patch) : mergePatch(o, patch, type === 'strategic');
    });
    expect(hit, `${kind}/${ns}/${name} in the bundle`).toBe(1);
  }
  return out;
}

describe('each fix, applied to the bundle, makes its finding go away', () => {
  for (const code of PLANTED_ROOTS) {
    it(code, () => {
      const before = runDoctor(demo).findings.filter((f) => f.code === code);
      expect(before).toHaveLength(1);
      const fix = before[0].fix!;
      expect(fix.patch).toBeTruthy();
      const model = buildModel(applyFix(raws, fix.patch!), nodeFiles);
      const after = runDoctor(model).findings;
      expect(after.filter((f) => f.code === code)).toEqual([]);
      // The Service's own analysis is clean but for the captured EndpointSlice, which the
      // controller rewrites after the patch (SVC_ENDPOINTS_MISSING: it now selects the pods);
      // the captured kube-proxy rules likewise still REJECT until kube-proxy syncs.
      if (code === 'SVC_LABEL_MISMATCH')
        expect(
          after.filter(
            (f) =>
              f.objects.includes('svc/shop/frontend') &&
              f.code.startsWith('SVC_') &&
              f.code !== 'SVC_ENDPOINTS_MISSING',
          ),
        ).toEqual([]);
    });
  }

  it('POLICY_DENIED_INGRESS (the payments trace): the added rule lets frontend through', () => {
    const frontend = demo.podsInNamespace('shop').find((p) => p.name.startsWith('frontend'))!;
    const q = {
      source: { kind: 'pod' as const, namespace: 'shop', name: frontend.name },
      destination: { kind: 'svc' as const, namespace: 'payments', name: 'payments-api' },
    };
    const r = traceConnection(demo, q);
    const denied = r.findings.filter((f) => f.code === 'POLICY_DENIED_INGRESS');
    expect(denied).toHaveLength(2);
    // Every broken hop names the root finding behind it.
    for (const p of r.paths) {
      const hop = p.hops.find((h) => h.status === 'broken')!;
      expect(hop.rootCause?.length).toBe(1);
      expect(denied.map((f) => f.id)).toContain(hop.rootCause![0]);
    }
    const model = buildModel(applyFix(raws, denied[0].fix!.patch!), nodeFiles);
    const after = traceConnection(model, q);
    expect(after.findings.filter((f) => f.code === 'POLICY_DENIED_INGRESS')).toEqual([]);
    expect(after.verdict).toBe('reachable');
  });
});

/** The demo's objects with one change (a fault planted for a fix to undo). */
function planted(change: (objects: Raw[]) => void): Raw[] {
  const objects = structuredClone(raws);
  change(objects);
  return objects;
}
const named = (objects: Raw[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata?.name === name)!;

describe('the other object fixes, on bundles with the fault planted', () => {
  it('SVC_LABEL_MISMATCH of a pod that drifted from its siblings: the pod is relabelled', () => {
    const objects = planted((o) => {
      named(o, 'Service', 'frontend').spec.selector = { app: 'frontend' };
      o.find((x) => x.kind === 'Pod' && x.metadata.name === 'frontend-9zd29xl7v-t6lld')!.metadata.labels.app =
        'frontnd';
    });
    const diagnosis = (model: ClusterModel) => diagnoseService(model, 'shop', 'frontend').findings;
    const [before] = diagnosis(buildModel(objects, nodeFiles)).filter((f) => f.code === 'SVC_LABEL_MISMATCH');
    expect(before.fix?.summary).toMatch(/^Set app: frontend on pod frontend-9zd29xl7v-t6lld: 1 other pod of/);
    expect(before.fix?.patch).toMatch(/^kubectl patch pod frontend-9zd29xl7v-t6lld -n shop --type merge/);
    const after = diagnosis(buildModel(applyFix(objects, before.fix!.patch!), nodeFiles));
    expect(after.filter((f) => f.code === 'SVC_LABEL_MISMATCH')).toEqual([]);
  });

  it("INGRESS_BACKEND_PORT_NOT_FOUND of an HTTPRoute: the backendRef's port is set", () => {
    const objects = planted((o) => {
      named(o, 'HTTPRoute', 'store').spec.rules[0].backendRefs[0].port = 8080;
    });
    const codes = (model: ClusterModel) => diagnoseHTTPRoute(model, 'shop', 'store').findings;
    const before = codes(buildModel(objects, nodeFiles)).filter(
      (f) => f.code === 'INGRESS_BACKEND_PORT_NOT_FOUND',
    );
    expect(before).toHaveLength(1);
    expect(before[0].fix?.patch).toContain('kubectl patch httproute store -n shop --type json');
    const after = codes(buildModel(applyFix(objects, before[0].fix!.patch!), nodeFiles));
    expect(after.filter((f) => f.code === 'INGRESS_BACKEND_PORT_NOT_FOUND')).toEqual([]);
  });

  const frontend = () => demo.podsInNamespace('shop').find((p) => p.name.startsWith('frontend'))!;
  const denyEgress = (o: Raw[]) =>
    o.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'frontend-egress', namespace: 'shop' },
      spec: { podSelector: { matchLabels: { app: 'frontend' } }, policyTypes: ['Egress'], egress: [] },
    });

  it('POLICY_DENIED_EGRESS to a pod: the added egress rule lets it through', () => {
    const objects = planted(denyEgress);
    const cart = demo.podsInNamespace('shop').find((p) => p.name.startsWith('cart-') && p.ready)!;
    const ask = (model: ClusterModel) =>
      evaluatePolicy(model, {
        source: { kind: 'pod', pod: model.pod('shop', frontend().name)! },
        destination: { kind: 'pod', pod: model.pod('shop', cart.name)! },
        port: 8080,
        protocol: 'TCP',
      });
    const before = ask(buildModel(objects, nodeFiles));
    const denied = before.findings.filter((f) => f.code === 'POLICY_DENIED_EGRESS');
    expect(denied).toHaveLength(1);
    expect(denied[0].fix?.patch).toContain('"path":"/spec/egress"');
    const after = ask(buildModel(applyFix(objects, denied[0].fix!.patch!), nodeFiles));
    expect(after.verdict).toBe('allowed');
  });

  it('POLICY_DENIED_EGRESS to an address: the added rule is an ipBlock of that address', () => {
    const objects = planted(denyEgress);
    const ask = (model: ClusterModel) =>
      evaluatePolicy(model, {
        source: { kind: 'pod', pod: model.pod('shop', frontend().name)! },
        destination: { kind: 'ip', ip: '203.0.113.7' },
        port: 443,
        protocol: 'TCP',
      });
    const denied = ask(buildModel(objects, nodeFiles)).findings.filter(
      (f) => f.code === 'POLICY_DENIED_EGRESS',
    );
    expect(denied[0].fix?.patch).toContain('"ipBlock":{"cidr":"203.0.113.7/32"}');
    expect(ask(buildModel(applyFix(objects, denied[0].fix!.patch!), nodeFiles)).verdict).toBe('allowed');
  });
});

describe('the fix of an error knet has no rule for', () => {
  it("is the finding's own hint when the analysis wrote one, else the catalog hint's first sentence", () => {
    const own = finding('SVC_PORT_NOT_FOUND', {
      message: 'svc/shop/cart has no port 8080; its ports: 80/TCP (http)',
      objects: ['svc/shop/cart'],
      hint: '8080 is the targetPort of port 80: address the service on port 80.',
    });
    const general = finding('SVC_PORT_NOT_FOUND', {
      message: 'svc/shop/cart has no port 9',
      objects: ['svc/shop/cart'],
    });
    explainFindings([own, general], demo);
    expect(own.fix).toEqual({
      summary: '8080 is the targetPort of port 80: address the service on port 80.',
    });
    expect(general.fix).toEqual({ summary: 'Use one of the service ports listed by kubectl get svc.' });
  });
});
