// Machine output: every command's JSON is one object with apiVersion knet/v1 and a kind.
export const API_VERSION = 'knet/v1';

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml' | 'dot' | 'mermaid';

export function document<T extends object>(kind: string, body: T): { apiVersion: string; kind: string } & T {
  return { apiVersion: API_VERSION, kind, ...body };
}

export function renderJson(doc: object): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

export async function renderYaml(doc: object): Promise<string> {
  const { stringify } = await import('yaml');
  return stringify(doc, { aliasDuplicateObjects: false });
}
