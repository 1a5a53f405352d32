export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  code: string;
  severity: Severity;
  /** One sentence a user understands. */
  message: string;
  /** `kind/namespace/name` or `node/NAME`. */
  objects: string[];
  /** What to do about it. */
  hint: string;
  /** The rule, route, label or file that decided it. */
  evidence?: string[];
}
