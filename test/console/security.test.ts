import { request } from 'node:http';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsoleServer, type ConsoleServer } from '../../src/console/index.js';
import { BotMetrics, startHealthServer } from '../../src/service/index.js';
import { noChromium } from '../helpers/env.js';
import { fakeMeeting, finishedFile } from './fixtures.js';
import { launchChromium, openPage, screenshot } from './helpers.js';

const TOKEN = 'test-console-token-0123456789abcdef';
const MEETING = 'team/2026-01-01T09-00-00.000Z';

/** A raw HTTP request (the path is sent exactly as given: no URL normalisation as in fetch). */
function raw(base: string, path: string, options: { method?: string; headers?: Record<string, string> } = {}) {
  const url = new URL(base);
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function archive(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'console-sec-'));
  const dir = await fakeMeeting(root, 'team', '2026-01-01T09-00-00.000Z', {
    room: 'team',
    startedAt: 1000,
    stoppedAt: 5000,
    files: [finishedFile('a', 'Alice', 'Alice.webm', 1000, 5000)],
  });
  const secret = join(await mkdtemp(join(tmpdir(), 'outside-')), 'secret.txt');
  await writeFile(secret, 'top secret outside the recordings');
  await symlink(secret, join(dir, 'leak.webm'));
  await symlink(join(secret, '..'), join(root, 'team', 'linked'));
  return root;
}

describe('console security', () => {
  let root: string;
  let local: ConsoleServer;
  let exposed: ConsoleServer;
  const logged: string[] = [];

  beforeAll(async () => {
    root = await archive();
    const sink = new Writable({ write: (chunk, _enc, done) => (logged.push(String(chunk)), done()) });
    const logger = pino({ level: 'trace' }, sink);
    local = await startConsoleServer({ recordingsDir: root, port: 0, logger });
    // Off loopback (all interfaces) with a token; the test still talks to it over 127.0.0.1.
    exposed = await startConsoleServer({ recordingsDir: root, host: '0.0.0.0', port: 0, token: TOKEN, logger });
  });

  afterAll(async () => {
    await local?.close();
    await exposed?.close();
  });

  it('serves recordings with HTTP Range, and nothing outside the recordings directory', async () => {
    const file = `/files/${MEETING}/Alice.webm`;
    const whole = await raw(local.url, file);
    expect(whole.status).toBe(200);
    expect(whole.body.length).toBe(1001);
    const part = await raw(local.url, file, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 10-19/1001');
    expect(part.headers['content-type']).toBe('video/webm');
    expect(part.body.length).toBe(10);
    const attempts = [
      '/files/../../../../etc/passwd',
      `/files/${MEETING}/..%2F..%2F..%2F..%2Fetc%2Fpasswd`,
      '/files/%2e%2e/%2e%2e/etc/passwd',
      '/files/team/%2e%2e/meeting.json',
      '/files/team/..%5C..%5Cetc/passwd',
      `/files/${MEETING}/leak.webm`, // a symlink pointing out of the archive
      '/files/team/linked/secret.txt', // a symlinked folder pointing out of the archive
      '/files/team/2026-01-01T09-00-00.000Z%00/Alice.webm',
      '/api/meetings/team/..',
    ];
    for (const path of attempts) {
      const res = await raw(local.url, path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.body, path).not.toMatch(/root:|top secret/);
    }
    const list = (await (await fetch(`${local.url}api/meetings`)).json()) as { meetings: { id: string }[] };
    expect(list.meetings.map((m) => m.id)).toEqual([MEETING]);
  });

  it('on loopback without a token: answers loopback host names only, and actions need the console header and origin', async () => {
    expect((await raw(local.url, '/api/meetings', { headers: { host: 'attacker.example:80' } })).status).toBe(403);
    const mix = `/api/meetings/${MEETING}/mix`;
    expect((await raw(local.url, mix, { method: 'POST' })).status).toBe(403);
    const host = new URL(local.url).host;
    expect((await raw(local.url, mix, { method: 'POST', headers: { 'x-spreed-console': '1', origin: 'http://attacker.example' } })).status).toBe(403);
    // A same-origin request from the page passes the guard (the mix itself may fail: stand-in media).
    expect((await raw(local.url, mix, { method: 'POST', headers: { 'x-spreed-console': '1', origin: `http://${host}` } })).status).toBe(202);
  });

  it('off loopback: refuses requests without the token, accepts the Bearer token or the login cookie', async () => {
    for (const path of ['/api/meetings', `/files/${MEETING}/Alice.webm`, '/api/live']) {
      expect((await raw(exposed.url, path)).status, path).toBe(401);
      expect((await raw(exposed.url, path, { headers: { authorization: 'Bearer wrong' } })).status, path).toBe(401);
    }
    expect((await raw(exposed.url, '/api/meetings', { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    const wrong = await raw(exposed.url, '/api/login', { method: 'POST', headers: { 'x-spreed-console': '1', 'content-type': 'application/json' } });
    expect(wrong.status).toBe(401);
    const login = await fetch(`${exposed.url}api/login`, { method: 'POST', headers: { 'x-spreed-console': '1', 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    const session = cookie.split(';')[0]!;
    expect((await raw(exposed.url, `/files/${MEETING}/Alice.webm`, { headers: { cookie: session } })).status).toBe(200);
    // The token never shows up in logs.
    expect(logged.join('')).not.toContain(TOKEN);
  });

  it('does not start off loopback without a token; the health endpoint then serves no console', async () => {
    await expect(startConsoleServer({ recordingsDir: root, host: '0.0.0.0', port: 0 })).rejects.toMatchObject({ code: 'TOKEN_REQUIRED' });
    const health = await startHealthServer({ host: '0.0.0.0', port: 0, metrics: new BotMetrics(), bots: () => [], console: { recordingsDir: root } });
    try {
      expect(health.consoleUrl).toBeUndefined();
      const base = health.url.replace('0.0.0.0', '127.0.0.1');
      expect((await raw(base, '/healthz')).status).toBe(200);
      expect((await raw(base, '/api/meetings')).status).toBe(404);
    } finally {
      await health.close();
    }
  });

  describe.skipIf(noChromium)('in Chromium', () => {
    it('asks for the token off loopback, refuses a wrong one and shows the meetings after the right one', async () => {
      const browser = await launchChromium();
      try {
        const { page, errors } = await openPage(browser);
        await page.goto(exposed.url.replace('0.0.0.0', '127.0.0.1'));
        await page.waitForSelector('form.login');
        expect(await page.locator('[data-meeting]').count()).toBe(0);
        await page.fill('input[name="token"]', 'not the token');
        await page.click('form.login button');
        await page.waitForSelector('form.login .error:text("wrong token")');
        await page.fill('input[name="token"]', TOKEN);
        await page.click('form.login button');
        await page.waitForSelector(`[data-meeting="${MEETING}"]`);
        await screenshot(page, 'console-login-meetings');
        // A traversal typed into the address bar gets nothing either.
        const res = await page.goto(`${exposed.url.replace('0.0.0.0', '127.0.0.1')}files/team/%2e%2e/%2e%2e/etc/passwd`);
        expect(res?.status()).toBe(404);
        expect(errors.filter((e) => !/401|404/.test(e))).toEqual([]);
      } finally {
        await browser.close();
      }
    }, 60_000);
  });
});
