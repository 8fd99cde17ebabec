/**
 * Chromium harness for interop tests: Debian's /usr/bin/chromium through playwright-core (never a
 * downloaded browser), a static HTTP server on 127.0.0.1 for test/fixtures/web, and typed access to
 * the page's `window.test` API. Use {@link useBrowser} inside a `describe.skipIf(noChromium)`.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumPath } from './env.js';

const webRoot = fileURLToPath(new URL('../fixtures/web/', import.meta.url));

/** Flags from MEDIA-NOTES §3: fake media, loopback ICE, nothing that phones home. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
];

// ------------------------------------------------------------------ the page API (client.js)

/** A Bye/state view of one call as `test.state()` reports it. */
export interface PageCall {
  peerId: string;
  direction: 'in' | 'out';
  state: 'new' | 'dialing' | 'ringing' | 'connecting' | 'connected' | 'ended';
  conference?: string;
  ice: string | null;
  iceStates: string[];
  dc: string | null;
  remoteTracks: string[];
  remoteTalking?: boolean;
  /** Screen share token announced by the peer on the call channel. */
  screenshare?: string;
  byeSent?: string;
  byeReceived?: string;
}

export interface PageState {
  id: string | null;
  room: string | null;
  roomType: string | null;
  conferenceId: string | null;
  connected: boolean;
  users: { id: string; ua?: string; status?: unknown }[];
  errors: { Code: string; Message: string }[];
  calls: PageCall[];
  tokenConns: { key: string; token: string; role: 'offerer' | 'answerer'; dc: string | null; closed: boolean }[];
  ignoredTokenOffers: { from: string; token: string; id: unknown }[];
  talking: boolean;
}

/** One direction of one media kind from getStats (inbound-rtp or outbound-rtp). */
export interface RtpStats {
  bytes: number;
  packets: number;
  codec?: string;
  frameWidth?: number;
  frameHeight?: number;
  frames?: number;
  framesPerSecond?: number;
  totalAudioEnergy?: number;
  audioLevel?: number;
  packetsLost?: number;
  pliCount?: number;
  nackCount?: number;
  targetBitrate?: number;
  qualityLimitationReason?: string;
  statsTimestamp: number;
}

export interface CallStats {
  inbound: { audio: RtpStats | null; video: RtpStats | null };
  outbound: { audio: RtpStats | null; video: RtpStats | null };
  timestamp: number;
}

export interface PageFileInfo {
  id: string;
  chunks: number;
  size: number;
  name: string;
  type: string;
}

export interface DownloadResult {
  size: number;
  sha256: string;
  base64?: string;
  connections: number;
  crcErrors: number;
  chunkSize: number;
  equalChunks: boolean;
  ms: number;
  /** Request sent → whole chunk received (ms), one entry per chunk request, in completion order. */
  chunkMs: number[];
  /** Offer sent → data channel open (ms), per token connection, in open order. */
  openMs: number[];
}

export interface PageSettings {
  displayName: string;
  answer: 'accept' | 'reject' | 'busy' | 'ignore';
  answerDelayMs: number;
  pickupTimeoutMs: number;
  ringerTimeoutMs: number;
  talkingIntervalMs: number;
  video: Record<string, unknown>;
  downloadConnections: number;
  chunkSize: number;
}

/** Received server envelope as the page recorded it. */
export interface Envelope {
  Data?: { Type?: string; [k: string]: unknown };
  From?: string;
  To?: string;
  Iid?: string;
  A?: string;
}

/** `window.test` of test/fixtures/web/client.js. Every call runs in the page via page.evaluate. */
export interface PageApi {
  settings(patch?: Partial<PageSettings>): PageSettings;
  connect(wsUrl: string): string;
  join(room: string): { room: string; roomType: string; users: string[] };
  id(): string | null;
  sendStatus(): void;
  chat(to: string, message: string, via?: 'server'): string;
  call(peerId: string, opts?: { conference?: string }): void;
  accept(peerId: string): void;
  reject(peerId: string): void;
  hangup(peerId: string, reason?: string): void;
  state(): PageState;
  received(type?: string): Envelope[];
  sent(type?: string): Record<string, unknown>[];
  chats(): { from: string; via: 'server' | 'p2p'; to: string; chat: Record<string, unknown> }[];
  fileInfos(): { from: string; info: PageFileInfo }[];
  conferenceDocs(): { from?: string; to?: string; id: string; list: string[] }[];
  dcMessages(peerId: string): Record<string, unknown>[];
  sendOnCallChannel(peerId: string, doc: unknown): void;
  setTalking(value: boolean): void;
  startTalking(periodMs: number): void;
  stats(peerId: string): CallStats;
  remoteStats(peerId: string): CallStats['inbound'];
  outboundVideoStats(peerId: string): RtpStats | null;
  registerToken(token: string, kind?: 'echo'): void;
  tokenOpen(peerId: string, token: string, timeoutMs?: number, id?: number): string;
  tokenSend(key: string, text: string): void;
  tokenMessages(key: string): string[];
  tokenClose(key: string): void;
  shareFile(name: string, base64: string, opts?: { type?: string; to?: string; via?: 'server' }): PageFileInfo;
  shareRandomFile(name: string, size: number, opts?: { type?: string; to?: string; via?: 'server' }): { info: PageFileInfo; sha256: string };
  /** Starts a WC-style screen share (the fake camera as "screen", or an animated canvas with `canvas`); returns the token. */
  startScreenshare(opts?: { canvas?: boolean }): string;
  stopScreenshare(): void;
  fileStats(token: string): { served: number[]; corrupted: number[]; connections: number; byes: number } | null;
  corruptNextChunk(n?: number): void;
  download(fromId: string, info: PageFileInfo, opts?: { connections?: number; returnBytes?: boolean; timeoutMs?: number }): DownloadResult;
  crc32(text: string): number;
  close(): void;
  sleep(ms: number): void;
}

/** Async, Node-side view of {@link PageApi}. */
export type RemotePageApi = { [K in keyof PageApi]: (...args: Parameters<PageApi[K]>) => Promise<Awaited<ReturnType<PageApi[K]>>> };

/** One open fixture page. */
export interface TestPage {
  page: Page;
  context: BrowserContext;
  /** Display name given at open, used in log lines. */
  name: string;
  /** Session id once connected (set by {@link BrowserHarness.openPage} when a wsUrl was given). */
  id: string;
  /** Calls `window.test.<method>(...args)` in the page. */
  t: RemotePageApi;
  /** Console lines of this page, in order. */
  logs: string[];
  close(): Promise<void>;
}

function remoteApi(page: Page): RemotePageApi {
  return new Proxy({} as RemotePageApi, {
    get(_target, method) {
      if (typeof method !== 'string') return undefined;
      return (...args: unknown[]) =>
        page.evaluate(
          // Runs in the page; lib is ES2022 without DOM, so reach window.test through globalThis.
          ([m, a]) => (globalThis as unknown as { test: Record<string, (...x: unknown[]) => unknown> }).test[m as string]!(...(a as unknown[])),
          [method, args] as const,
        );
    },
  });
}

// ------------------------------------------------------------------ static server

const mime: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

async function startStatic(): Promise<{ server: Server; baseUrl: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^([/\\])+/, '');
    const file = join(webRoot, path === '' ? 'index.html' : path);
    if (!file.startsWith(webRoot.endsWith(sep) ? webRoot : webRoot + sep)) {
      res.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': mime[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

// ------------------------------------------------------------------ harness

/** A launched Chromium plus the fixture web server. */
export class BrowserHarness {
  private readonly pages: TestPage[] = [];
  private counter = 0;

  private constructor(
    readonly browser: Browser,
    private readonly server: Server,
    /** `http://127.0.0.1:<port>` serving test/fixtures/web. */
    readonly baseUrl: string,
  ) {}

  /** Launches Debian's Chromium headless with {@link chromiumArgs}. */
  static async launch(extraArgs: string[] = []): Promise<BrowserHarness> {
    const { server, baseUrl } = await startStatic();
    try {
      const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: [...chromiumArgs, ...extraArgs] });
      return new BrowserHarness(browser, server, baseUrl);
    } catch (e) {
      server.close();
      throw e;
    }
  }

  /**
   * Opens the fixture page in a fresh context. With `wsUrl` it connects (resolves after Self) and
   * sets `id`. `params` become the page's query string (see `settings` in client.js, e.g.
   * `{ name: 'Alice', answer: 'reject' }`).
   */
  async openPage(wsUrl?: string, params: Record<string, string | number> = {}): Promise<TestPage> {
    const name = String(params.name ?? `page${++this.counter}`);
    const context = await this.browser.newContext();
    const page = await context.newPage();
    const logs: string[] = [];
    const stamp = () => new Date().toISOString().slice(11, 23);
    page.on('console', (m) => logs.push(`${stamp()} [${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`${stamp()} [pageerror] ${e.message}`));
    const query = new URLSearchParams(Object.entries({ ...params, name }).map(([k, v]): [string, string] => [k, String(v)]));
    await page.goto(`${this.baseUrl}/index.html?${query}`);
    await page.waitForFunction(() => 'test' in globalThis);
    const tp: TestPage = {
      page,
      context,
      name,
      id: '',
      t: remoteApi(page),
      logs,
      close: async () => {
        await page.evaluate(() => (globalThis as unknown as { test: { close(): void } }).test.close()).catch(() => {});
        await context.close().catch(() => {});
      },
    };
    this.pages.push(tp);
    if (wsUrl) tp.id = await tp.t.connect(wsUrl);
    return tp;
  }

  /** Console lines of every page opened so far, prefixed by page name. */
  logs(): string {
    return this.pages.map((p) => `--- page ${p.name} (${p.id.slice(0, 12)}) ---\n${p.logs.join('\n')}`).join('\n');
  }

  /** Closes every page opened since the last call (not the browser). */
  async closePages(): Promise<void> {
    const pages = this.pages.splice(0);
    await Promise.all(pages.map((p) => p.close()));
  }

  /** Closes pages, browser and web server. Idempotent. */
  async close(): Promise<void> {
    await this.closePages();
    await this.browser.close().catch(() => {});
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

