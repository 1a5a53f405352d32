/** An error the user can fix: printed as one line on stderr, no stack trace, exit code 2. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Malformed input: names the file and line so the user can find it. */
export class ParseError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${detail}` : `${file}: ${detail}`);
    this.name = 'ParseError';
  }
}

/** The 1-based line of a character offset in a text. */
export function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** JSON.parse with a ParseError that names the file and line of the syntax error. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const lineCol = /line (\d+) column (\d+)/.exec(msg);
    const pos = /position (\d+)/.exec(msg);
    const line = lineCol
      ? Number(lineCol[1])
      : pos
        ? lineOfOffset(text, Number(pos[1]))
        : text.trim()
          ? 1
          : 1;
    const detail = msg.replace(/^.*?(Unexpected|Expected|Bad)/, '$1').replace(/ in JSON at position.*$/, '');
    throw new ParseError(file, line, `invalid JSON: ${text.trim() === '' ? 'empty file' : detail}`);
  }
}

/**
 * Runs a parser so that nothing but a ParseError leaves it: input of a shape the parser did not
 * expect (a value of the wrong type, nesting that overflows the stack) is an error naming the
 * file, never a TypeError or a RangeError.
 */
export function guardParse<T>(file: unknown, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ParseError || !(err instanceof Error) || err.name === 'UserError') throw err;
    const detail = /call stack/i.test(err.message) ? 'nested too deeply' : err.message;
    throw new ParseError(String(file), 0, `unexpected content (${detail})`);
  }
}
