// An exec handler that plays the node collection script on a node of a bundle: it reads the
// pod arguments the script gets ("DIR=UID") and prints that node's files in the script's
// framing. The framing is written here independently of src/sources/kube/script.ts.
import type { ExecHandler } from './apiserver.js';

export function frame(
  files: Record<string, string>,
  failures: Record<string, string> = {},
  host = 'node',
): string {
  const lines = [`#knet-collect 1 ${host}`];
  const b64 = (s: string) =>
    (
      Buffer.from(s)
        .toString('base64')
        .match(/.{1,76}/g) ?? []
    ).join('\n');
  for (const [p, text] of Object.entries(files)) {
    lines.push(`#knet-file ${p} ok`);
    if (text) lines.push(b64(text));
    lines.push('#knet-end');
  }
  for (const [p, err] of Object.entries(failures)) {
    lines.push(`#knet-file ${p} error 1`, b64(`${err}\n`), '#knet-end');
  }
  lines.push('#knet-done');
  return `${lines.join('\n')}\n`;
}

export interface FakeNodeOptions {
  /** Nodes whose collection breaks: 'cut' drops the connection mid-stream, 'fail' exits 1. */
  broken?: Record<string, 'cut' | 'fail' | 'hang'>;
  /** Called for every exec (the test sees the command). */
  onExec?: (node: string, command: string[]) => void;
}

export function bundleExec(
  nodeFiles: Record<string, Record<string, string>>,
  opts: FakeNodeOptions = {},
): ExecHandler {
  return async (ctx, io) => {
    const node = String(ctx.pod.spec?.nodeName);
    opts.onExec?.(node, ctx.command);
    const marker = ctx.command.indexOf('knet-collect');
    if (ctx.command[0] !== 'sh' || ctx.command[1] !== '-c' || marker !== 3) {
      io.stderr('unexpected command\n');
      return 127;
    }
    const all = nodeFiles[node] ?? {};
    const files: Record<string, string> = {};
    for (const [p, t] of Object.entries(all)) if (!p.startsWith('pods/')) files[p] = t;
    const failures: Record<string, string> = {};
    for (const spec of ctx.command.slice(marker + 1)) {
      const dir = spec.split('=')[0];
      const own = Object.entries(all).filter(([p]) => p.startsWith(`pods/${dir}/`));
      if (own.length === 0)
        failures[`pods/${dir}`] = `no process of pod uid ${spec.split('=')[1]} on this node`;
      for (const [p, t] of own) files[p] = t;
    }
    const out = frame(files, failures, node);
    const mode = opts.broken?.[node];
    if (mode === 'cut') {
      io.stdout(out.slice(0, Math.floor(out.length / 2)));
      await new Promise((r) => setTimeout(r, 20));
      io.destroy();
      return 0;
    }
    if (mode === 'hang') {
      io.stdout(out.slice(0, 40));
      await new Promise((r) => setTimeout(r, 60_000).unref());
      return 0;
    }
    if (mode === 'fail') {
      io.stderr('sh: iptables-save: Permission denied\n');
      return 1;
    }
    io.stdout(out);
    return 0;
  };
}
