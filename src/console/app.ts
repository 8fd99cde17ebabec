import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono, type Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { secureHeaders } from 'hono/secure-headers';
import { streamSSE } from 'hono/streaming';
import { Subject, takeUntil, type Observable } from 'rxjs';
import type { FfmpegInfo } from '../media/index.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { ACTION_HEADER, SESSION_COOKIE, hasToken, requireAccess, sameSecret, sessionValue } from './auth.js';
import type { LiveModel } from './live-model.js';
import { MeetingsIndex } from './meetings.js';
import { MixJobs } from './mix-jobs.js';
import { resolveInRecordings } from './recordings-path.js';

/** Where the page's HTML, script and styles are (served as they are: no build step). */
export const assetsDir = fileURLToPath(new URL('./assets/', import.meta.url));

/** Options of the console routes. */
export interface ConsoleOptions {
  /** Recordings directory: the meetings list, players and downloads. @defaultValue `'recordings'` */
  recordingsDir?: string;
  /**
   * Access token. Required when the server listens on anything but loopback; compared in constant
   * time and never logged. @defaultValue none (loopback only)
   */
  token?: string;
  /** The running bots; without it the console shows the meetings only (`spreed-bot console`). */
  live?: LiveModel;
  ffmpeg?: FfmpegInfo;
  logger?: Logger;
}

/** The console's routes plus what must be ended when the server stops. */
export interface ConsoleRoutes {
  app: Hono;
  /** Ends the live event streams (so the HTTP server can close). */
  close(): void;
}

const MEDIA_TYPES: Record<string, string> = {
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  ogg: 'audio/ogg',
  vtt: 'text/vtt; charset=utf-8',
  json: 'application/json',
  m3u8: 'application/vnd.apple.mpegurl',
  ts: 'video/mp2t',
};

/** Streams `source` as Server-Sent Events (`event` name, JSON data) until the client or the console goes. */
function sse<T>(c: Context, source: Observable<T>, event: string, closed$: Observable<void>): Response {
  return streamSSE(c, async (stream) => {
    await new Promise<void>((resolve) => {
      const sub = source.pipe(takeUntil(closed$)).subscribe({
        next: (value) => void stream.writeSSE({ event, data: JSON.stringify(value) }).catch(() => sub.unsubscribe()),
        complete: resolve,
        error: () => resolve(),
      });
      stream.onAbort(() => {
        sub.unsubscribe();
        resolve();
      });
    });
  });
}

/**
 * The operator console as Hono routes: the page (`/`), the live view over Server-Sent Events
 * (`/api/live/events`), the meetings list and pages (`/api/meetings…`), mix-downs with progress,
 * stop actions (POST), the recorded files with HTTP Range (`/files/<room>/<start>/<file>`) and a
 * bot's live HLS stream (`/live/<bot id>/index.m3u8`, from its `stream` plugin).
 * Mount it on a server that listens on loopback, or pass a token.
 */
export async function consoleRoutes(options: ConsoleOptions = {}): Promise<ConsoleRoutes> {
  const logger = options.logger ?? silentLogger;
  const live = options.live;
  const meetings = new MeetingsIndex(options.recordingsDir ?? 'recordings', { recordingDirs: () => live?.recordingDirs() ?? new Set() });
  const mixes = new MixJobs({ ffmpeg: options.ffmpeg, logger });
  const closed = new Subject<void>();
  const token = options.token;
  const page = await readFile(new URL('index.html', `file://${assetsDir}`), 'utf8');
  const app = new Hono();

  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
      referrerPolicy: 'no-referrer',
      crossOriginEmbedderPolicy: false,
    }),
  );
  app.get('/', (c) => c.html(page));
  app.get('/assets/*', serveStatic({ root: assetsDir, rewriteRequestPath: (path) => path.replace(/^\/assets/, '') }));

  // Tells the page whether it must ask for the token, and whether there are bots to show.
  app.get('/api/session', (c) => {
    const loggedIn = token === undefined || hasToken(c, token);
    return c.json({ auth: token === undefined ? 'loopback' : 'token', loggedIn, live: live !== undefined, ...(loggedIn ? { recordings: meetings.root } : {}) });
  });
  app.post('/api/login', async (c) => {
    if (c.req.header(ACTION_HEADER) === undefined) return c.json({ error: `send the ${ACTION_HEADER} header` }, 403);
    if (token === undefined) return c.json({ ok: true });
    const body = (await c.req.json().catch(() => ({}))) as { token?: unknown };
    if (!sameSecret(typeof body.token === 'string' ? body.token : undefined, token)) return c.json({ error: 'wrong token' }, 401);
    const secure = new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
    setCookie(c, SESSION_COOKIE, sessionValue(token), { httpOnly: true, sameSite: 'Strict', path: '/', secure });
    return c.json({ ok: true });
  });
  app.post('/api/logout', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ ok: true });
  });

  app.use('/api/*', requireAccess({ token }));
  app.use('/files/*', requireAccess({ token }));
  app.use('/live/*', requireAccess({ token }));

  if (live) {
    app.get('/api/live', (c) => c.json(live.snapshot()));
    app.get('/api/live/events', (c) => sse(c, live.snapshots$, 'snapshot', closed));
    app.post('/api/bots/:id/stop-recording', async (c) => {
      const stopped = await live.stopRecording(c.req.param('id'));
      return c.json({ ok: stopped }, stopped ? 200 : 404);
    });
    app.post('/api/bots/:id/stop', async (c) => {
      const stopped = await live.stopBot(c.req.param('id'));
      return c.json({ ok: stopped }, stopped ? 200 : 404);
    });
  }

  // A bot's live HLS stream (`!stream start hls`): its playlist and segments, no other file.
  app.get('/live/:bot/:file', async (c) => {
    const dir = live?.hlsDir(c.req.param('bot'));
    const path = dir && /\.(m3u8|ts)$/.test(c.req.param('file')) ? await resolveInRecordings(dir, [c.req.param('file')]) : undefined;
    if (!path) return c.json({ error: 'no such live stream file' }, 404);
    const res = await serveStatic({ path })(c, async () => undefined);
    if (!res) return c.json({ error: 'not a file' }, 404);
    res.headers.set('content-type', MEDIA_TYPES[path.split('.').pop()!]!);
    res.headers.set('cache-control', 'no-store');
    return res;
  });
  app.all('/live/*', (c) => c.json({ error: 'no such live stream file' }, 404));

  app.get('/api/meetings', async (c) => {
    const page = Number(c.req.query('page') ?? 1) || 1;
    const pageSize = Number(c.req.query('pageSize') ?? 20) || 20;
    return c.json(await meetings.list(page, pageSize));
  });
  app.get('/api/meetings/:room/:start', async (c) => {
    const detail = await meetings.get(c.req.param('room'), c.req.param('start'));
    if (!detail) return c.json({ error: 'no such meeting' }, 404);
    const dir = await meetings.dirOf(c.req.param('room'), c.req.param('start'));
    return c.json({ ...detail, mixState: dir ? mixes.state(dir) : { status: 'idle' } });
  });
  app.post('/api/meetings/:room/:start/mix', async (c) => {
    const dir = await meetings.dirOf(c.req.param('room'), c.req.param('start'));
    if (!dir) return c.json({ error: 'no such meeting' }, 404);
    return c.json(mixes.start(dir), 202);
  });
  app.get('/api/meetings/:room/:start/mix/events', async (c) => {
    const dir = await meetings.dirOf(c.req.param('room'), c.req.param('start'));
    if (!dir) return c.json({ error: 'no such meeting' }, 404);
    return sse(c, mixes.state$(dir), 'mix', closed);
  });

  app.get('/files/:room/:start/:file', async (c) => {
    const path = await resolveInRecordings(meetings.root, [c.req.param('room'), c.req.param('start'), c.req.param('file')]);
    if (!path) return c.json({ error: 'no such file in the recordings directory' }, 404);
    if (c.req.query('download') !== undefined) c.header('Content-Disposition', `attachment; filename="${c.req.param('file').replace(/["\\\r\n]/g, '_')}"`);
    const res = await serveStatic({ path })(c, async () => undefined);
    if (!res) return c.json({ error: 'not a file' }, 404);
    const type = MEDIA_TYPES[path.split('.').pop()!.toLowerCase()];
    if (type) res.headers.set('content-type', type);
    res.headers.set('accept-ranges', 'bytes');
    return res;
  });
  app.all('/files/*', (c) => c.json({ error: 'no such file in the recordings directory' }, 404));

  return {
    app,
    close: () => {
      closed.next();
      closed.complete();
    },
  };
}
