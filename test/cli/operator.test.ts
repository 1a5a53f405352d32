// Issue #20, on the built CLI: kubectl habits, first-run experience and output that fits the
// terminal. Every example in every --help and doc runs on the demo as written.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { knet, ROOT, tempDir } from '../support/cli.js';
import { REQUIRE_REAL } from '../support/setup.js';

const FRONTEND = 'frontend-9zd29xl7v-27thn';
const KUBECTL_KNET = path.join(ROOT, 'bin', 'kubectl-knet');
const oneLine = (s: string) => s.trim().split('\n').length === 1;

/** Every `knet … --snapshot demo` in the README, docs/ and the demo's README. */
function docExamples(): [string, string][] {
  const files = [
    'README.md',
    'examples/demo/README.md',
    ...readdirSync(path.join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const out: [string, string][] = [];
  for (const f of files) {
    const text = readFileSync(path.join(ROOT, f), 'utf8');
    for (const m of text.matchAll(/(?:\.\/bin\/)?\bknet ([a-z][^`\n#|]*?--snapshot demo[^`\n#|]*)/g))
      out.push([f, m[1].trim()]);
    for (const m of text.matchAll(/(?:\.\/bin\/)?\bknet (diff demo [^`\n#|]*)/g)) out.push([f, m[1].trim()]);
  }
  return out;
}

describe('every example runs on the demo as written', async () => {
  const { COMMANDS } = (await import(path.join(ROOT, 'dist', 'commands', 'index.js'))) as {
    COMMANDS: Record<string, { examples?: string[] }>;
  };
  const help: [string, string][] = Object.entries(COMMANDS).flatMap(([id, c]) =>
    (c.examples ?? []).map((e) => [id, e.replace('<%= config.bin %> ', '')] as [string, string]),
  );

  it('the --help examples of the commands that read a cluster all name the demo', () => {
    for (const [id, example] of help) {
      if (['snapshot', 'completion', 'help', 'version'].includes(id)) continue;
      // diff names its two clusters as arguments: the demo is one of them.
      if (id === 'diff') {
        expect(example, `knet ${id} --help`).toMatch(/^diff demo /);
        continue;
      }
      expect(example, `knet ${id} --help`).toContain('--snapshot demo');
    }
  });

  it.for(help.filter(([id]) => id !== 'snapshot'))('knet %s --help: knet %s', ([, example]) => {
    const r = knet(example.split(/\s+/));
    // 0 or 1 answer the question; 2 would be "could not answer".
    expect([0, 1], `${example}\n${r.stderr}`).toContain(r.code);
    expect(r.stderr).not.toMatch(/internal error/);
  });

  it.for(docExamples())('%s: knet %s', ([, example]) => {
    const r = knet(example.split(/\s+/));
    expect([0, 1], `${example}\n${r.stderr}`).toContain(r.code);
  });

  it('knet help CMD prints the examples with the name the user typed', () => {
    const r = knet(['help', 'trace']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`$ knet trace pod/shop/${FRONTEND} svc/payments/payments-api --snapshot demo`);
    const k = knet(['trace', '--help'], { bin: KUBECTL_KNET });
    expect(k.stdout).toContain('$ kubectl knet trace SOURCE DESTINATION');
    expect(k.stdout).toContain(`$ kubectl knet trace pod/shop/${FRONTEND}`);
    expect(k.stdout).not.toMatch(/\$ knet /);
  });
});

describe('commands, flags, help and version', () => {
  it('suggests the command meant', () => {
    const r = knet(['endpiont', 'svc/shop/cart']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'knet: unknown command "endpiont": did you mean "endpoints"? (knet --help lists the commands)\n',
    );
  });

  it('suggests the command meant by knet help CMD and by kubectl knet', () => {
    expect(knet(['help', 'tarce']).stderr).toBe(
      'knet: unknown command "tarce": did you mean "trace"? (knet --help lists the commands)\n',
    );
    expect(knet(['poods'], { bin: KUBECTL_KNET }).stderr).toBe(
      'knet: unknown command "poods": did you mean "pods"? (kubectl knet --help lists the commands)\n',
    );
  });

  it('suggests the flag meant, with the usage line', () => {
    const r = knet(['pods', '--snapsot', 'demo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'knet: unknown flag --snapsot: did you mean --snapshot?\nusage: knet pods [flags] (knet help pods)\n',
    );
  });

  it('a missing argument: the whole message and the usage line', () => {
    const r = knet(['trace']);
    expect(r.code).toBe(2);
    const [message, usage] = r.stderr.trim().split('\n');
    expect(message).toMatch(
      /^knet: missing arguments SOURCE \(pod\/\[NS\/\]NAME.*\) and DESTINATION \(svc\/.*\)$/,
    );
    expect(usage).toBe('usage: knet trace SOURCE DESTINATION [flags] (knet help trace)');
  });

  it('knet help, knet help CMD, knet version, knet --version', () => {
    expect(knet(['help']).stdout).toContain('COMMANDS');
    expect(knet(['help', 'pods']).stdout).toContain('$ knet pods');
    const v = knet(['version']);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/^knet\/\d+\.\d+\.\d+ \S+ node-v\d+/);
    expect(knet(['--version']).stdout).toBe(v.stdout);
  });
});

describe('shell completion', () => {
  it('bash: a script bash accepts, completing commands, flags and flag values', () => {
    const r = knet(['completion', 'bash']);
    expect(r.code).toBe(0);
    const check = spawnSync('bash', ['-n'], { input: r.stdout, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    // Ask bash itself: complete `knet tr`, `knet trace --snap`, `knet trace -o `.
    const ask = (line: string) => {
      const words = line.split(' ');
      const script = `${r.stdout}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _knet_completion; printf '%s\\n' "\${COMPREPLY[@]}"`;
      return spawnSync('bash', ['-c', script], { encoding: 'utf8' }).stdout.trim().split('\n');
    };
    expect(ask('knet tr')).toEqual(['trace']);
    expect(ask('knet trace --snap')).toEqual(['--snapshot']);
    expect(ask('knet trace -o ')).toEqual(['table', 'wide', 'json', 'yaml', 'dot', 'mermaid']);
    expect(ask('knet trace de')).toEqual(['deploy/']);
  });

  it('zsh and fish', () => {
    expect(knet(['completion', 'zsh']).stdout).toContain('bashcompinit');
    const fish = knet(['completion', 'fish']).stdout;
    expect(fish).toContain('complete -c knet -n __fish_use_subcommand -a trace');
    expect(fish).toContain("complete -c knet -n '__fish_seen_subcommand_from trace' -l snapshot -r");
  });
});

describe('workload and cross-namespace targets', () => {
  const trace = (...args: string[]) => knet(['trace', ...args, '--snapshot', 'demo', '--json']);

  it('deploy/NS/NAME is one of its ready pods, said on stderr', () => {
    const r = trace('deploy/shop/frontend', 'svc/shop/cart');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `knet: deploy/shop/frontend → pod/shop/${FRONTEND} (1 of 2 ready pods; --all-pods for each)\n`,
    );
    expect(JSON.parse(r.stdout).source).toMatchObject({ kind: 'Pod', namespace: 'shop', name: FRONTEND });
  });

  it.for([
    ['deployment/cart', 'cart-'],
    ['sts/cart-redis', 'cart-redis-0'],
    ['statefulset/cart-redis', 'cart-redis-0'],
    ['rs/catalog-btbn72m6tl', 'catalog-btbn72m6tl-'],
  ])('%s (with -n) resolves to %s…', ([target, prefix]) => {
    const r = knet(['trace', target, 'svc/shop/checkout', '-n', 'shop', '--snapshot', 'demo', '--json']);
    expect([0, 1]).toContain(r.code);
    expect(JSON.parse(r.stdout).source.name.startsWith(prefix)).toBe(true);
  });

  it('ds/NS/NAME as a destination, and --all-pods fans out', () => {
    const ds = trace(`pod/shop/${FRONTEND}`, 'daemonset/kube-system/kube-proxy');
    expect(ds.stderr).toMatch(
      /^knet: daemonset|^knet: ds\/kube-system\/kube-proxy → pod\/kube-system\/kube-proxy-/,
    );
    const all = trace('deploy/shop/cart', 'svc/shop/checkout', '--all-pods');
    const doc = JSON.parse(all.stdout);
    expect(doc.kind).toBe('TraceList');
    expect(doc.items.map((t: { source: { name: string } }) => t.source.name)).toEqual([
      'cart-b5lsxj67p-8rwhn',
      'cart-b5lsxj67p-kb2pr',
      'cart-b5lsxj67p-gz4dk',
    ]);
  });

  it('policy and dns --from take workloads too', () => {
    const p = knet([
      'policy',
      'deploy/shop/checkout',
      'deploy/payments/payments-api:https',
      '--snapshot',
      'demo',
    ]);
    expect(p.code).toBe(0);
    const d = knet(['dns', 'cart', '--from', 'deploy/shop/frontend', '--snapshot', 'demo']);
    expect(d.code).toBe(0);
    expect(d.stderr).toContain('deploy/shop/frontend → pod/shop/');
  });

  it('a missing workload: exit 2, one line with the closest name', () => {
    const r = trace('deploy/shop/frontnd', 'svc/shop/cart');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'knet: deploy/shop/frontnd not found in bundle demo: no pods of it; did you mean deploy/shop/frontend?\n',
    );
  });

  it('a bare pod name that lives in another namespace is suggested', () => {
    const r = trace(`pod/${FRONTEND}`, 'svc/shop/cart');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `knet: pod/${FRONTEND} not found in namespace default: did you mean pod/shop/${FRONTEND}? (or -n shop)\n`,
    );
  });
});

describe('exit 2 for a missing object, namespace or node, everywhere', () => {
  it.for([
    ['pods -n shopp', /^knet: namespace shopp not found in bundle demo: did you mean shop\?\n$/],
    ['doctor -n nosuch', /^knet: namespace nosuch not found in bundle demo \(namespaces: default, /],
    [
      'pods -n shop --node demo-workr',
      /^knet: node demo-workr not found in bundle demo: did you mean demo-worker/,
    ],
    ['endpoints svc/shop/cart --node nosuch', /^knet: node nosuch not found/],
    ['proxy --node nosuch', /^knet: node nosuch not found/],
    ['endpoints svc/shop/kart', /^knet: Service shop\/kart does not exist; did you mean svc\/shop\/cart\?/],
    ['ingress gateway/shop/shop-gw', /^knet: Gateway shop\/shop-gw does not exist/],
    [`trace pod/shop/${FRONTEND} node/demo-workr`, /^knet: No node demo-workr/],
    [
      `policy pod/shop/${FRONTEND}x pod/shop/${FRONTEND} --port 80`,
      /^knet: No pod shop\/frontend-.*x; did you mean /,
    ],
    [
      'trace pod/shop/frontend svc/shop/cart',
      /^knet: No pod shop\/frontend; did you mean frontend-9zd29xl7v-27thn/,
    ],
  ])('knet %s', ([args, message]) => {
    const r = knet([...(args as string).split(' '), '--snapshot', 'demo']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toMatch(message as RegExp);
  });
});

describe('kubectl flag habits', () => {
  it('-A is accepted on the cluster-scoped nodes list', () => {
    const r = knet(['nodes', '-A', '--snapshot', 'demo']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(knet(['nodes', '--snapshot', 'demo']).stdout);
  });

  it.for([
    ['pods --json -o yaml', '--json and -o yaml cannot be used together'],
    ['pods -A -n shop', '-A and -n cannot be used together'],
    ['pods --context kind-x', '--snapshot and --context cannot be used together'],
    ['pods --kubeconfig /x', '--snapshot and --kubeconfig cannot be used together'],
    ['pods --no-color --color always', '--no-color and --color always cannot be used together'],
  ])('conflicting flags: knet %s', ([args, message]) => {
    const r = knet([...args.split(' '), '--snapshot', 'demo']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(oneLine(r.stderr)).toBe(true);
    expect(r.stderr).toContain(message);
  });

  it('-o wide adds columns to nodes and evidence to trace and doctor', () => {
    const narrow = knet(['nodes', '--snapshot', 'demo']).stdout;
    const wide = knet(['nodes', '-o', 'wide', '--snapshot', 'demo']).stdout;
    expect(narrow).not.toContain('NODE DATA');
    expect(wide).toMatch(/EXTERNAL IP .* CIDR USED +NODE DATA/);
    const t = (o: string) =>
      knet(['trace', `pod/shop/${FRONTEND}`, 'svc/shop/cart', '-o', o, '--snapshot', 'demo']).stdout;
    expect(t('wide').length).toBeGreaterThan(t('table').length);
    const d = (o: string) => knet(['doctor', '-A', '-o', o, '--snapshot', 'demo']).stdout;
    expect(d('table')).not.toContain('objects:');
    expect(d('wide')).toContain('objects: httproute/shop/store, svc/payments/payments-api');
  });
});

describe('output that fits the terminal', () => {
  // A real terminal of 80 columns: script(1) gives knet a pty.
  const hasScript = existsSync('/usr/bin/script');
  it.skipIf(!hasScript && !REQUIRE_REAL)(
    'tables fit 80 columns on a terminal, and are unchanged when piped',
    () => {
      const cmd = `stty cols 80; ${process.execPath} ${path.join(ROOT, 'bin', 'knet')} pods -A --snapshot demo`;
      const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', TERM: 'xterm' },
      });
      expect(r.status).toBe(0);
      const lines = r.stdout.replace(/\r/g, '').split('\n');
      const table = lines.filter((l) => /Running|Pending|NAMESPACE/.test(l));
      expect(table.length).toBeGreaterThan(10);
      for (const l of table) expect([...l].length, l).toBeLessThanOrEqual(80);
      expect(table.some((l) => l.includes('…'))).toBe(true);
      // Piped: full width, as before.
      const piped = knet(['pods', '-A', '--snapshot', 'demo']).stdout.split('\n');
      expect(Math.max(...piped.map((l) => l.length))).toBeGreaterThan(80);
      expect(piped.join('\n')).not.toContain('…');
    },
  );

  it('ASCII symbols under LC_ALL=C, Unicode under a UTF-8 locale', () => {
    const args = ['trace', `pod/shop/${FRONTEND}`, 'svc/payments/payments-api', '--snapshot', 'demo'];
    const ascii = knet(args, { env: { LC_ALL: 'C' } }).stdout;
    expect(ascii).toMatch(/^[\x20-\x7e\n]*$/);
    expect(ascii).toContain('  + container');
    expect(ascii).toContain('  x policy');
    expect(ascii).toContain(' -> svc/payments/payments-api');
    const utf8 = knet(args, { env: { LC_ALL: 'C.UTF-8' } }).stdout;
    expect(utf8).toContain('  ✓ container');
  });

  it('colour follows --color, NO_COLOR and FORCE_COLOR', () => {
    const args = ['nodes', '--snapshot', 'demo'];
    const esc = (env: Record<string, string>, ...flags: string[]) =>
      knet([...args, ...flags], { env }).stdout.includes('\u001b[');
    expect(esc({ NO_COLOR: '' })).toBe(false); // piped
    expect(esc({ NO_COLOR: '', FORCE_COLOR: '1' })).toBe(true);
    expect(esc({ NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(false);
    expect(esc({ NO_COLOR: '1' }, '--color', 'always')).toBe(true);
    expect(esc({ NO_COLOR: '', FORCE_COLOR: '1' }, '--color', 'never')).toBe(false);
    expect(esc({ NO_COLOR: '', FORCE_COLOR: '1' }, '--no-color')).toBe(false);
    expect(esc({ NO_COLOR: '', FORCE_COLOR: '1' }, '--color', 'auto')).toBe(true);
  });

  const hasDot = spawnSync('dot', ['-V']).status === 0;
  if (!hasDot) console.warn('SKIPPED the -o dot check: needs graphviz (dot) installed');
  it.skipIf(!hasDot)('-o dot: Graphviz reads it and breaks the labels (no literal \\n)', () => {
    const r = knet([
      'trace',
      `pod/shop/${FRONTEND}`,
      'svc/payments/payments-api',
      '-o',
      'dot',
      '--snapshot',
      'demo',
    ]);
    const svg = spawnSync('dot', ['-Tsvg'], { input: r.stdout, encoding: 'utf8' });
    expect(svg.status, svg.stderr).toBe(0);
    const texts = [...svg.stdout.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(texts).toContain('container @demo&#45;worker');
    expect(texts.some((t) => t.includes('\\n'))).toBe(false);
  });
});

describe('Node.js floor', () => {
  const old = '/usr/bin/node';
  const version = existsSync(old)
    ? spawnSync(old, ['-p', 'process.version'], { encoding: 'utf8' }).stdout.trim()
    : '';
  const tooOld = /^v(1\d|2[01])\.|^v22\.(1[0-8]|\d)\./.test(version);
  it.skipIf(!tooOld)(
    `an older Node (${version || 'none'}) gets one line and exit 2, for knet and npm test`,
    () => {
      for (const bin of ['knet', 'kubectl-knet']) {
        const r = spawnSync(
          old,
          [path.join(ROOT, 'bin', bin), 'trace', 'pod/a', 'svc/b', '--snapshot', 'demo'],
          {
            encoding: 'utf8',
          },
        );
        expect(r.status).toBe(2);
        expect(r.stderr).toBe(
          `knet: needs Node.js >= 22.19.0, this is ${version}: run it with a newer Node, e.g. npx -y node@22 ./bin/knet … (or nvm install 22)\n`,
        );
      }
      const check = spawnSync(old, [path.join(ROOT, 'scripts', 'check-node.cjs')], { encoding: 'utf8' });
      expect(check.status).toBe(2);
      expect(oneLine(check.stderr)).toBe(true);
      const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
      expect(pkg.scripts.test).toMatch(/^node scripts\/check-node\.cjs && /);
      expect(pkg.scripts.prepack).toMatch(/^node scripts\/check-node\.cjs && /);
      // No install-time script: npm would warn about it on every install of the tarball.
      for (const s of ['preinstall', 'install', 'postinstall', 'prepare'])
        expect(pkg.scripts[s]).toBeUndefined();
      expect(pkg.engines.node).toBe('>=22.19.0');
    },
  );
});

describe('the npm package', () => {
  it('npm pack + npm install -g --prefix DIR: knet and kubectl-knet work, with no warning', () => {
    const dir = tempDir('knet-pack-');
    const npm = (args: string[]) =>
      spawnSync('npm', args, {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, npm_config_update_notifier: 'false' },
        timeout: 240_000,
      });
    const pack = npm(['pack', '--silent', '--pack-destination', dir]);
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = path.join(dir, pack.stdout.trim().split('\n').pop() ?? '');
    const prefix = path.join(dir, 'prefix');
    const install = npm([
      'install',
      '-g',
      '--prefix',
      prefix,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      tarball,
    ]);
    expect(install.status, install.stderr).toBe(0);
    expect(install.stderr).not.toMatch(/warn/i);
    expect(readdirSync(path.join(prefix, 'bin')).sort()).toEqual(['knet', 'kubectl-knet']);
    const run = (bin: string, ...args: string[]) =>
      spawnSync(path.join(prefix, 'bin', bin), args, {
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
    expect(run('knet', '--version').stdout).toMatch(/^knet\/0\./);
    const k = run('kubectl-knet', 'nodes', '--snapshot', 'demo');
    expect(k.status, k.stderr).toBe(0);
    expect(k.stdout).toContain('demo-worker2');
    expect(run('kubectl-knet', '--help').stdout).toContain('$ kubectl knet [COMMAND]');
  }, 300_000);
});

// --protocol decides the Service port (issue #20): the port of that protocol, or a finding when
// the Service has none.
describe('--protocol picks the Service port', () => {
  const trace = (...args: string[]) =>
    knet(['trace', `pod/shop/${FRONTEND}`, ...args, '--snapshot', 'demo', '--json']);
  it('kube-dns:53 --protocol tcp is the dns-tcp port', () => {
    const r = trace('svc/kube-system/kube-dns:53', '--protocol', 'tcp');
    expect(JSON.parse(r.stdout).destination).toMatchObject({ port: 53, protocol: 'TCP' });
  });
  it('a TCP-only port asked for UDP is a finding (unreachable, exit 1), not a TCP answer', () => {
    const r = trace('svc/shop/cart', '--protocol', 'udp');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.verdict).toBe('unreachable');
    expect(doc.findings[0]).toMatchObject({ code: 'SVC_PORT_NOT_FOUND', objects: ['svc/shop/cart'] });
  });
});
