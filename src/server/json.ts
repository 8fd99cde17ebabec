/*
 * Server → client serialisation the way Go's encoding/json writes it (PROTOCOL-NOTES §1.2):
 * struct-like objects keep their declared key order, opaque maps (SDP, candidate, Bye payload,
 * session Status) come out with keys sorted at every level, `<`, `>`, `&`, U+2028 and U+2029
 * are escaped, and every frame ends with `\n`.
 */

/** Marks an opaque JSON value whose object keys are written sorted, like a Go `map[string]interface{}`. */
export class GoMap {
  constructor(readonly value: unknown) {}
}

/** The server → client envelope; empty fields are omitted. */
export interface Envelope {
  Data: unknown;
  From?: string;
  To?: string;
  Iid?: string;
  A?: string;
}

const escapes: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** Go compares map keys by UTF-8 bytes; for BMP-only keys code-unit order is the same. */
function byBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

type Task = { value: unknown; sorted: boolean } | string;

/** Iterative, so opaque maps nested up to Go's limit of 10000 levels cannot overflow the stack. */
function write(root: unknown, out: string[]): void {
  const stack: Task[] = [{ value: root, sorted: false }];
  while (stack.length > 0) {
    const task = stack.pop()!;
    if (typeof task === 'string') {
      out.push(task);
      continue;
    }
    let { value, sorted } = task;
    if (value instanceof GoMap) {
      value = value.value;
      sorted = true;
    }
    if (value === null || value === undefined) {
      out.push('null');
    } else if (typeof value === 'string') {
      out.push(JSON.stringify(value));
    } else if (typeof value === 'number') {
      out.push(Number.isFinite(value) ? JSON.stringify(value) : 'null');
    } else if (typeof value === 'boolean') {
      out.push(value ? 'true' : 'false');
    } else if (Array.isArray(value)) {
      stack.push(']');
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({ value: value[i], sorted });
        if (i > 0) stack.push(',');
      }
      out.push('[');
    } else if (typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      let keys = Object.keys(obj).filter((k) => obj[k] !== undefined); // omitempty
      if (sorted) keys = keys.sort(byBytes);
      stack.push('}');
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        stack.push({ value: obj[key], sorted });
        stack.push(`${i > 0 ? ',' : ''}${JSON.stringify(key)}:`);
      }
      out.push('{');
    } else {
      out.push('null');
    }
  }
}

/** Encodes a value Go-style (no trailing newline). */
export function encodeGo(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join('').replace(/[<>&\u2028\u2029]/g, (c) => escapes[c]!);
}

/** Encodes one frame: `{Data,From,To,Iid,A}` with empty keys omitted, plus the trailing newline. */
export function encodeEnvelope(envelope: Envelope): string {
  return `${encodeGo({
    Data: envelope.Data ?? undefined,
    From: envelope.From || undefined,
    To: envelope.To || undefined,
    Iid: envelope.Iid || undefined,
    A: envelope.A || undefined,
  })}\n`;
}

/** Go's decoder refuses nesting deeper than 10000; this scans the text without parsing it. */
export function exceedsNesting(text: string, max = 10_000): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}
