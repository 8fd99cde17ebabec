import { WebSocket } from 'ws';

/** A received envelope, parsed as plain JSON (tests look at the raw shape). */
export interface Frame {
  Data: any;
  From?: string;
  To?: string;
  Iid?: string;
  A?: string;
}

interface Waiter {
  match: (frame: Frame) => boolean;
  resolve: (frame: Frame) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

let aliveCounter = 1;

/**
 * A tiny raw Channeling API client for server tests: keeps every frame (raw text too), lets a
 * test await the next matching one, and offers an Alive round trip as an ordering barrier.
 */
export class TestClient {
  /** The most recent raw frames (the last 100), as the server wrote them. */
  readonly raw: string[] = [];
  private readonly inbox: Frame[] = [];
  private readonly waiters: Waiter[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  self!: any;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const text = data.toString();
      this.raw.push(text);
      if (this.raw.length > 100) this.raw.shift();
      const frame = JSON.parse(text) as Frame;
      const index = this.waiters.findIndex((w) => w.match(frame));
      if (index >= 0) {
        const [waiter] = this.waiters.splice(index, 1);
        clearTimeout(waiter!.timer);
        waiter!.resolve(frame);
      } else {
        this.inbox.push(frame);
      }
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('error', () => {});
  }

  /** Connects and waits for the pushed Self. */
  static async connect(url: string, options: { token?: string; autoPong?: boolean } = {}): Promise<TestClient> {
    const target = options.token ? `${url}?t=${options.token}` : url;
    const ws = new WebSocket(target, { autoPong: options.autoPong ?? true });
    const client = new TestClient(ws);
    const selfFrame = client.next((f) => f.Data?.Type === 'Self');
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    client.self = (await selfFrame).Data;
    return client;
  }

  get id(): string {
    return this.self.Id;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first (already received or future) frame matching `match`, consuming it. */
  next(match: (frame: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const index = this.inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no matching frame within ${timeoutMs} ms; pending: ${JSON.stringify(this.inbox).slice(0, 500)}`));
      }, timeoutMs);
      const waiter: Waiter = { match, resolve, reject, timer };
      this.waiters.push(waiter);
    });
  }

  /** Next frame whose Data.Type is `type`. */
  nextOfType(type: string, timeoutMs?: number): Promise<Frame> {
    return this.next((f) => f.Data?.Type === type, timeoutMs);
  }

  /** Sends a frame with an Iid and resolves with the reply carrying it. */
  request(frame: Record<string, unknown>, iid = `iid-${aliveCounter++}`): Promise<Frame> {
    const reply = this.next((f) => f.Iid === iid);
    this.send({ ...frame, Iid: iid });
    return reply;
  }

  /** Round trip through the server: everything the server queued to this client before is received after this. */
  async sync(timeoutMs?: number): Promise<void> {
    const value = aliveCounter++;
    const reply = this.next((f) => f.Data?.Type === 'Alive' && f.Data.Alive === value, timeoutMs);
    this.send({ Type: 'Alive', Alive: { Type: 'Alive', Alive: value } });
    await reply;
  }

  /** Frames received and not consumed yet (and takes them). */
  drain(): Frame[] {
    return this.inbox.splice(0, this.inbox.length);
  }

  /** Joins a room and resolves with the reply (Welcome or Error). */
  hello(name: string, extra: Record<string, unknown> = {}): Promise<Frame> {
    return this.request({ Type: 'Hello', Hello: { Version: 'test', Ua: 'test-client', Name: name, Type: '', ...extra } });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Makes sure every frame `from` sent so far was handled and what it caused reached each of `to`. */
export async function settle(from: TestClient, ...to: TestClient[]): Promise<void> {
  await from.sync();
  for (const client of to) await client.sync();
}
