// The linear table renderer (src/render/table.ts) replaced cli-table3 for speed: it must lay
// out every table exactly as cli-table3 did with knet's options. Compared on fixed edge cases
// and on seeded random tables (ASCII, colours, multi-line cells, wide and zero-width text).
import { Chalk } from 'chalk';
import Table from 'cli-table3';
import { afterEach, describe, expect, it } from 'vitest';
import { configureColor } from '../../src/render/style.js';
import { displayWidth, renderTable } from '../../src/render/table.js';

/** knet's renderTable as it was, on cli-table3. */
function reference(head: string[], rows: (string | number)[][], bold: (s: string) => string): string {
  const table = new Table({
    head: head.map((h) => bold(h.toUpperCase())),
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const row of rows) table.push(row.map((cell) => String(cell)));
  return table.toString().replace(/[ \t]+$/gm, '');
}

let seed = 7;
const rnd = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];

const colour = new Chalk({ level: 1 });
const WORDS = ['pod', 'svc/shop/cart', '10.244.1.5', '', 'Running', 'node-0001', '<none>', 'x', 'True', '42'];
const ODD = ['✓', '✗', '→', '…', '—', '中文', 'é', 'e\u0301', '⚠️', '✅', 'a\tb', '🚫', 'ⓘ', '◐'];

function randomCell(colours: boolean): string | number {
  const r = rnd();
  if (r < 0.1) return Math.floor(rnd() * 100000);
  let text = pick(WORDS);
  if (rnd() < 0.3) text += ` ${pick(ODD)}`;
  if (rnd() < 0.15) text += `\n${pick(WORDS)}${rnd() < 0.5 ? `\n${pick(ODD)}` : ''}`;
  if (colours && rnd() < 0.4) {
    const paint = pick([colour.red, colour.green, colour.bold, colour.yellow.bold, colour.bgRed, colour.dim]);
    // Sometimes across lines: colorizeLines must carry it over.
    text = rnd() < 0.5 ? paint(text) : `\u001b[31m${text}`;
  }
  return text;
}

// Colour on for the coloured cases, whatever NO_COLOR the test run has.
const savedNoColor = process.env.NO_COLOR;
function colourOn(on: boolean): void {
  if (on) delete process.env.NO_COLOR;
  configureColor({ noColor: !on, stream: { isTTY: true } as NodeJS.WriteStream });
}
afterEach(() => {
  if (savedNoColor !== undefined) process.env.NO_COLOR = savedNoColor;
  configureColor({ noColor: true });
});

describe('renderTable', () => {
  it('lays out like cli-table3: fixed cases', () => {
    configureColor({ noColor: true });
    const id = (s: string) => s;
    const cases: [string[], (string | number)[][]][] = [
      [['name', 'ip'], []],
      [['name', 'ip'], [['a', '10.0.0.1']]],
      [
        ['a', 'b', 'c'],
        [['', '', ''], ['x'], [], ['1', '22', '333', '4444']],
      ],
      [[], [['no', 'head']]],
      [
        ['multi'],
        [
          ['one\ntwo\nthree', 'x'],
          ['y', 'z\n'],
        ],
      ],
      [
        ['wide'],
        [
          ['中文字', 'ok'],
          ['✅', '⚠️ warn'],
          ['e\u0301', 'tab\there'],
        ],
      ],
    ];
    for (const [head, rows] of cases)
      expect(renderTable(head, rows, { trusted: true })).toBe(reference(head, rows, id));
  });

  it('lays out like cli-table3: 300 random tables, with and without colour', () => {
    for (let t = 0; t < 300; t++) {
      const colours = t % 2 === 1;
      colourOn(colours);
      const bold = colours ? colour.bold : (s: string) => s;
      const cols = 1 + Math.floor(rnd() * 6);
      const head = Array.from({ length: cols }, () => pick(['name', 'ip', 'node', 'ready', '']));
      const rows = Array.from({ length: Math.floor(rnd() * 12) }, () =>
        Array.from({ length: rnd() < 0.1 ? Math.floor(rnd() * (cols + 2)) : cols }, () =>
          randomCell(colours),
        ),
      );
      expect(renderTable(head, rows, { trusted: true }), `table ${t}`).toBe(reference(head, rows, bold));
    }
  });

  it('measures display width as string-width does', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth(colour.red('abc'))).toBe(3);
    expect(displayWidth('中文')).toBe(4);
    expect(displayWidth('✅ ok')).toBe(5);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('a\tb')).toBe(2);
  });

  it('renders 150,000 rows in linear time', () => {
    configureColor({ noColor: true });
    const rows = Array.from({ length: 150_000 }, (_, i) => [
      `ns-${i % 100}`,
      `pod-${i}`,
      `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`,
    ]);
    const t0 = performance.now();
    const text = renderTable(['namespace', 'name', 'ip'], rows);
    const ms = performance.now() - t0;
    expect(text.split('\n')).toHaveLength(150_001);
    // cli-table3 needed minutes here; linear layout is well under two seconds even on a busy box.
    expect(ms).toBeLessThan(5000);
  });
});
