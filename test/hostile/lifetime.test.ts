// Issue #19 items 5a, 7 and 2 on the built CLI against the test API server: a 403 on
// pods/portforward stops `knet dns` (not DNS silence); an exec credential plugin that never
// returns ends knet within its bound and does not keep it alive; Ctrl-C during node collection
// exits 130 within seconds, with the debug pods deleted and named.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanupTemp, KNET_BIN, runKnet, serveBundle, tempDir } from '../kube/helpers.js';
import type { TestApiServer } from '../kube/server/apiserver.js';
import type { LoadedBundle } from '../kube/server/bundle.js';
import { bundleExec, type FakeNodeOptions } from '../kube/server/fake-node.js';

let server: TestApiServer;
let bundle: LoadedBundle;
const fake: FakeNodeOptions = {};

beforeAll(async () => {
  ({ server, bundle } = await serveBundle(undefined, {
    exec: (ctx, io) => bundleExec(bundle.nodeFiles, fake)(ctx, io),
    // Nothing listens behind the port-forward: a forbidden one must not get that far anyway.
    portForward: () => undefined,
  }));
});
afterAll(async () => {
  await server.close();
  cleanupTemp();
});
afterEach(() => {
  server.forbid.length = 0;
  server.faults.length = 0;
  fake.broken = undefined;
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('knet dns without pods/portforward (item 5a)', () => {
  it('exit 2 naming the missing permission, no DNS finding', async () => {
    server.forbid.push({ verb: 'create', resource: 'pods/portforward' });
    const r = await runKnet(['dns', 'cart.shop.svc.cluster.local', '--kubeconfig', server.kubeconfig()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('create pods/portforward');
    expect(r.stderr).toMatch(/^knet: forbidden: cannot create pods\/portforward in namespace kube-system/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout + r.stderr).not.toContain('DNS_NO_RESPONSE');
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});

describe('an exec credential plugin that never returns (item 7)', () => {
  it('knet exits 2 within the bound with one line, and the plugin does not keep it alive', async () => {
    const dir = tempDir('knet-plugin-');
    const pidFile = path.join(dir, 'plugin.pid');
    const plugin = path.join(dir, 'plugin.sh');
    writeFileSync(plugin, `#!/bin/sh\necho $$ > ${pidFile}\nexec sleep 300\n`, { mode: 0o755 });
    const t0 = Date.now();
    const r = await runKnet(
      ['pods', '-A', '--kubeconfig', server.kubeconfig({ exec: { command: plugin } })],
      { KNET_CREDENTIAL_TIMEOUT_MS: '1500' },
      20_000,
    );
    const ms = Date.now() - t0;
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'knet: authentication failed for context knet-test: the credential plugin did not answer within 2 s\n',
    );
    expect(ms).toBeLessThan(10_000);
    // The plugin was started, and is not left sleeping behind knet.
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 200));
    expect(alive(pid), `plugin ${pid} still running`).toBe(false);
  });
});

describe('Ctrl-C during node collection (item 2)', () => {
  it('SIGINT while the exec streams hang: exit 130 within seconds, the pods deleted and named', async () => {
    // Every node of the fixture hangs: no collection ends (and deletes its pod) on its own.
    fake.broken = { 'control-plane': 'hang', 'node-1': 'hang', 'node-2': 'hang' };
    const out = path.join(tempDir('knet-sigint-'), 'b');
    const child = spawn(
      process.execPath,
      [KNET_BIN, 'snapshot', '-A', '--collect-nodes', '-o', out, '--kubeconfig', server.kubeconfig()],
      { env: { ...process.env, NO_COLOR: '1', DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.resume();
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    // Wait until the three exec streams are open and hanging.
    const t0 = Date.now();
    while (server.openSessions() < 3) {
      if (Date.now() - t0 > 20_000) {
        child.kill('SIGKILL');
        throw new Error(`the exec streams never opened:\n${stderr}`);
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    const created = server.objects('Pod').filter((p) => String(p.metadata.name).startsWith('knet-collect-'));
    expect(created.length).toBe(3);
    const tSig = Date.now();
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(timer);
    expect(Date.now() - tSig).toBeLessThan(5_000);
    expect(code, stderr).toBe(130);
    expect(server.objects('Pod').filter((p) => String(p.metadata.name).startsWith('knet-collect-'))).toEqual(
      [],
    );
    const line = stderr.split('\n').find((l) => l.startsWith('knet: interrupted:'));
    expect(line, stderr).toBeDefined();
    for (const p of created) expect(line).toContain(p.metadata.name);
    expect(line).toMatch(/^knet: interrupted: deleted the debug pods /);
    expect(stderr).not.toMatch(/internal error|\n\s+at /);
    expect(existsSync(path.join(out, 'cluster.json'))).toBe(false);
  });
});
