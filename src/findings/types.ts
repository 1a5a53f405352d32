export type Severity = 'error' | 'warning' | 'info';

/** How to make a finding go away: knet never runs these itself. */
export interface Fix {
  /** One sentence. */
  summary: string;
  /** Commands to check and change a node fact (run on the node, or through kubectl). */
  commands?: string[];
  /** A ready `kubectl patch …` (or `kubectl apply -f - <<EOF …`) with the concrete values. */
  patch?: string;
}

export interface Finding {
  /** Stable within and across runs over the same input: CODE-hash(code, objects). */
  id?: string;
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
  /** Ids of the findings (in the same document) this one is a consequence of. */
  causedBy?: string[];
  /** The change that fixes it (root errors). */
  fix?: Fix;
}
