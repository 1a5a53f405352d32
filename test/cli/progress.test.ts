// The progress line: only on a terminal, only after a second, off with KNET_NO_PROGRESS=1,
// erased by clear().
import { afterEach, describe, expect, it, vi } from 'vitest';

function fakeTTY(isTTY = true) {
  const writes: string[] = [];
  return { isTTY, columns: 80, write: (s: string) => writes.push(s) > 0, writes };
}

describe('progress', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  async function progressOn(out: ReturnType<typeof fakeTTY>) {
    const { Progress } = await import('../../src/render/progress.js');
    return new Progress(out as unknown as NodeJS.WriteStream);
  }

  it('draws counts after a second and erases them', async () => {
    vi.useFakeTimers();
    const out = fakeTTY();
    const p = await progressOn(out);
    p.set('reading pods', 1000, 150000);
    expect(out.writes).toEqual([]);
    vi.advanceTimersByTime(1200);
    p.set('reading pods', 4000, 150000);
    expect(out.writes).toEqual(['\r\x1b[2Kreading pods 4,000/150,000']);
    p.clear();
    expect(out.writes.at(-1)).toBe('\r\x1b[2K');
  });

  it('draws nothing on a pipe or with KNET_NO_PROGRESS=1', async () => {
    vi.useFakeTimers();
    const pipe = fakeTTY(false);
    const p = await progressOn(pipe);
    vi.stubEnv('KNET_NO_PROGRESS', '1');
    const tty = fakeTTY();
    const q = await progressOn(tty);
    p.set('x', 1);
    q.set('x', 1);
    vi.advanceTimersByTime(2000);
    p.set('x', 2);
    q.set('x', 2);
    expect(pipe.writes).toEqual([]);
    expect(tty.writes).toEqual([]);
  });
});
