import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom, timeout } from 'rxjs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bot, autoAnswer, record } from '../../src/index.js';
import { scriptedParticipant } from '../../src/demo/participant.js';
import type { MeetingRecording } from '../../src/media/index.js';
import { BotMetrics, startHealthServer, type HealthServer } from '../../src/service/index.js';
import { noChromium, noFfmpeg } from '../helpers/env.js';
import { testServer } from '../helpers/peers.js';
import { launchChromium, openPage, screenshot } from './helpers.js';

// The functions below run in the page; the project's lib has no DOM types, so they reach it untyped.
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The operator console end to end: the recorder bot of `spreed-bot run` (health endpoint with the
 * console), the demo's scripted participants sending test patterns, and Debian's Chromium on the page.
 */
describe.skipIf(noFfmpeg ?? noChromium)('operator console in Chromium', () => {
  let server: Awaited<ReturnType<typeof testServer>>;
  let health: HealthServer;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let recorder: Bot;
  let participants: Bot[] = [];
  let finalized: Promise<MeetingRecording>;
  const room = 'conference/console';

  beforeAll(async () => {
    server = await testServer();
    const dir = await mkdtemp(join(tmpdir(), 'spreed-console-'));
    recorder = new Bot({ server: server.url, room, name: 'Recorder', plugins: [autoAnswer(), record({ dir, stopWhenEmptyMs: 1000 })] });
    await recorder.start();
    finalized = firstValueFrom(recorder.services.require('recorder').finalized$.pipe(timeout(90_000)));
    health = await startHealthServer({ port: 0, metrics: new BotMetrics(), bots: () => [recorder, ...participants], console: { recordingsDir: dir } });
    participants = [
      new Bot({ server: server.url, room, name: 'Alice', plugins: [scriptedParticipant({ toneHz: 440, hue: 0, lines: [], stepMs: 1000 })] }),
      new Bot({ server: server.url, room, name: 'Bob', plugins: [scriptedParticipant({ toneHz: 660, hue: 120, lines: [], stepMs: 1000 })] }),
    ];
    for (const p of participants) await p.start();
    browser = await launchChromium();
    ({ page, errors } = await openPage(browser));
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.allSettled(participants.map((p) => p.stop()));
    await recorder?.stop();
    await health?.close();
    await server?.close();
  });

  it('live view: the recorder bot and its running recording with non-zero bitrates, then the change when they leave', async () => {
    expect(health.consoleUrl).toBeDefined();
    await page.goto(health.consoleUrl!);
    const card = page.locator('[data-bot="Recorder"]');
    await page.waitForSelector('[data-bot="Recorder"][data-recording="recording"]', { timeout: 30_000 });
    // Every participant's audio and video is received and has a bitrate.
    await page.waitForFunction(
      () => {
        const rows: any[] = [...(globalThis as any).document.querySelectorAll('[data-bot="Recorder"] [data-stream]')];
        const rate = (name: string) => Number(rows.find((r) => r.getAttribute('data-stream') === name)?.getAttribute('data-bitrate') ?? 0);
        return ['Alice/audio', 'Alice/video', 'Bob/audio', 'Bob/video'].every((s) => rate(s) > 0);
      },
      undefined,
      { timeout: 30_000 },
    );
    // The speaking indicator follows the Talking documents (the scripted participants flip every second).
    await page.waitForSelector('[data-bot="Recorder"] [data-stream] [data-talking]', { timeout: 15_000 });
    const text = await card.innerText();
    expect(text).toContain(room);
    expect(text).toMatch(/joined/);
    expect(text).toMatch(/autoAnswer, record/);
    expect(await card.locator('[data-user="Alice"]').count()).toBe(1);
    expect(await card.locator('[data-call]').count()).toBe(2);
    // VP8 key frames tell the test pattern's size.
    expect(await card.locator('[data-stream="Alice/video"]').innerText()).toMatch(/\d+x\d+/);
    await screenshot(page, 'console-live');

    await Promise.all(participants.map((p) => p.stop()));
    participants = [];
    await page.waitForSelector('[data-bot="Recorder"][data-recording="idle"]', { timeout: 30_000 });
    expect(await card.locator('[data-stream]').count()).toBe(0);
    expect(await card.locator('[data-user]').count()).toBe(0);
    await screenshot(page, 'console-live-after');
    expect(errors).toEqual([]);
  }, 120_000);

  it('meeting page: both participants, two lanes with speech, playback with seeking, mix-down with progress and captions', async () => {
    const recording = await finalized;
    await page.goto(`${health.consoleUrl}#/meetings`);
    const row = page.locator('[data-meeting]').first();
    await row.waitFor();
    expect(await row.innerText()).toMatch(/Alice, Bob|Bob, Alice/);
    expect(await row.innerText()).toContain('finished');
    await row.locator('a').click();

    // Speaker timeline: one lane per participant, each with speech segments.
    await page.waitForSelector('[data-lane]');
    expect((await page.locator('[data-lane]').evaluateAll((lanes) => lanes.map((l) => l.getAttribute('data-lane')))).sort()).toEqual(['Alice', 'Bob']);
    for (const name of ['Alice', 'Bob']) expect(await page.locator(`[data-lane="${name}"] rect.speech`).count()).toBeGreaterThan(0);

    // A participant's file plays, and plays on after a seek (the file server answers Range requests).
    // Alice's longest file (on a loaded machine her video may join late, as a second segment).
    const length = (f: (typeof recording.files)[number]) => (f.stoppedAt ?? 0) - f.startedAt;
    const file = recording.files.filter((f) => f.participantName === 'Alice').sort((a, b) => length(b) - length(a))[0]!.file;
    const played = await page.locator(`[data-file="${file}"]`).evaluate(async (video: any) => {
      const until = (ok: () => boolean, ms: number) =>
        new Promise<boolean>((resolve) => {
          const end = Date.now() + ms;
          const tick = () => (ok() ? resolve(true) : Date.now() > end ? resolve(false) : setTimeout(tick, 50));
          tick();
        });
      video.muted = true;
      await video.play();
      const first = await until(() => video.currentTime > 1, 15_000);
      const firstTime = video.currentTime;
      video.currentTime = 0.2;
      await new Promise((resolve) => video.addEventListener('seeked', resolve, { once: true }));
      const seekedTo = video.currentTime;
      const after = await until(() => video.currentTime > seekedTo + 1, 15_000);
      video.pause();
      return { first, firstTime, seekedTo, after, afterTime: video.currentTime, duration: video.duration };
    });
    expect(played, JSON.stringify(played)).toMatchObject({ first: true, after: true });
    expect(played.seekedTo).toBeLessThan(played.firstTime);

    // The mix-down button runs the mix with progress; the player then shows the captions track.
    await page.evaluate(() => {
      const seen: string[] = [];
      (globalThis as any).mixStates = seen;
      new (globalThis as any).MutationObserver(() => {
        const state = (globalThis as any).document.querySelector('[data-mix-state]')?.getAttribute('data-mix-state');
        if (state && seen.at(-1) !== state) seen.push(state);
      }).observe((globalThis as any).document.body, { subtree: true, attributes: true, childList: true });
    });
    await page.click('[data-action="mix"]');
    await page.waitForSelector('video#mix', { timeout: 90_000 });
    expect(await page.evaluate(() => (globalThis as any).mixStates as string[])).toContain('running');
    const captions = await page.locator('video#mix').evaluate(async (video: any) => {
      const trackEl = video.querySelector('track')!;
      if (trackEl.readyState !== 2) await new Promise((resolve) => trackEl.addEventListener('load', resolve, { once: true }));
      const track = video.textTracks[0]!;
      const cues: any[] = [...(track.cues ?? [])];
      // Seek into the first cue: it is the active one, so the player shows it.
      const first = cues[0]!;
      video.currentTime = (first.startTime + first.endTime) / 2;
      await new Promise((resolve) => video.addEventListener('seeked', resolve, { once: true }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { kind: track.kind, mode: track.mode, label: track.label, cues: cues.map((c) => c.text), active: [...(track.activeCues ?? [])].map((c: any) => c.text as string) };
    });
    expect(captions).toMatchObject({ kind: 'captions', mode: 'showing', label: 'Speakers' });
    expect(captions.cues.join('\n')).toMatch(/Alice/);
    expect(captions.cues.join('\n')).toMatch(/Bob/);
    expect(captions.active.length).toBe(1);
    // For the screenshot: the mix plays from the middle cue (pointer away, so the controls hide and the caption shows).
    await page.mouse.move(1, 1);
    await page.locator('video#mix').evaluate(async (video: any) => {
      const cues: any[] = [...video.textTracks[0].cues];
      video.muted = true;
      video.currentTime = cues[Math.floor(cues.length / 2)].startTime + 0.2;
      await video.play();
    });
    await page.waitForTimeout(3500);
    await screenshot(page, 'console-meeting');
    await page.locator('video#mix').evaluate((video: any) => video.pause());
    expect(errors).toEqual([]);
  }, 180_000);
});
