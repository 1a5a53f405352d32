import Table from 'cli-table3';
import { c } from './style.js';

/** A borderless kubectl-like table: upper-case headers, two spaces between columns. */
export function renderTable(head: string[], rows: (string | number)[][]): string {
  const table = new Table({
    head: head.map((h) => c().bold(h.toUpperCase())),
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
