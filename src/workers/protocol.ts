// The typed message protocol between the page and a worker (as web-llm does it): every request has a kind
// and an id; the worker answers with return, throw, or any number of progress messages first.

export interface Request<K extends string = string, A = unknown> {
  id: number;
  kind: K;
  args: A;
}

export type Reply =
  | { id: number; type: 'return'; value: unknown }
  | { id: number; type: 'throw'; error: { name: string; message: string; stack?: string } }
  | { id: number; type: 'progress'; data: unknown };

export function serializeError(e: unknown): { name: string; message: string; stack?: string } {
  if (e instanceof Error) return { name: e.name, message: e.message, stack: e.stack };
  return { name: 'Error', message: String(e) };
}

export class RemoteError extends Error {
  constructor(name: string, message: string, readonly remoteStack?: string) {
    super(message);
    this.name = name;
  }
}
