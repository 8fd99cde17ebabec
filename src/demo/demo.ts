import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { firstValueFrom, take } from 'rxjs';
import { Bot } from '../bot/bot.js';
import { autoAnswer } from '../bot/plugins/calls.js';
import { commands } from '../bot/plugins/commands.js';
import { collectFiles, shareFolder } from '../bot/plugins/files.js';
import { record } from '../bot/plugins/record.js';
import { describeFfmpeg, detectFfmpegFeatures, featureNotes, locateFfmpeg, MediaError, missingFor, type MeetingRecording } from '../media/index.js';
import { startServer, type ChannelingServer } from '../server/index.js';
import { LiveModel, startConsoleServer } from '../console/index.js';
import type { Logger } from '../util/logger.js';
import { demoFailures, type DemoProducts } from './outcome.js';
import { scriptedParticipant } from './participant.js';

/** The file Alice shares; the file-drop bot collects it into `<dir>/demo-files/`. */
const SHARED_FILE = 'agenda.txt';
/** How long after the meeting the recording may take to be finalised, and the file to arrive. */
const AFTER_MEETING_MS = 60_000;

/** Options of {@link runDemo}. */
export interface DemoOptions {
  logger: Logger;
  /** Where recordings and the collected file go. @defaultValue `'recordings'` */
  dir?: string;
  /** Server port (0 = any free one). @defaultValue 0 */
  port?: number;
  /** Port of the operator console (0 = any free one). @defaultValue 0 */
  consolePort?: number;
  /** How long the scripted participants stay, ms. @defaultValue 8000 */
  meetingMs?: number;
  /** Print a line for the user. @defaultValue console.log */
  print?: (line: string) => void;
}

/** What one demo round produced. */
export interface DemoResult {
  server: ChannelingServer;
  /** The operator console's page: the bots live, then the meeting with its timeline and players. */
  consoleUrl: string;
  /** The finalised recording, when there is one. */
  recording?: MeetingRecording;
  /** The collected file, when it arrived. */
  collectedFile?: string;
  /** One readable line per thing that was not produced (and why); empty when all is there. */
  failures: string[];
  /** Stops the bots and the server and removes the demo's temporary share folder. */
  close(): Promise<void>;
}

function within<T>(promise: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(onTimeout()), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Removes earlier demo rounds' copies (`agenda.txt`, `agenda (2).txt`, …) so the folder does not grow. */
async function removeEarlierCopies(dir: string, name: string): Promise<void> {
  const dot = name.lastIndexOf('.');
  const [stem, ext] = [name.slice(0, dot), name.slice(dot)];
  const copy = new RegExp(`^${stem.replace(/\W/g, '\\$&')}( \\(\\d+\\))?${ext.replace(/\W/g, '\\$&')}$`);
  for (const entry of await readdir(dir).catch(() => [])) if (copy.test(entry)) await rm(join(dir, entry), { force: true });
}

/**
 * One round of the demo: an embedded server, a recorder bot and a file-drop bot in the
 * Conference-type room `conference/demo`, and two scripted participants that join, talk,
 * chat, share a file and leave. Resolves when the recording is finalised and the file collected
 * (or it is clear that one of them failed: see {@link DemoResult.failures}). Prints only paths
 * that exist. Rejects only when the demo cannot run at all (no ffmpeg, port in use).
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const log = options.logger;
  const dir = resolve(options.dir ?? 'recordings');
  const ffmpeg = await locateFfmpeg();
  const features = await detectFfmpegFeatures(ffmpeg.path);
  print(`ffmpeg: ${describeFfmpeg(ffmpeg)}`);
  for (const note of featureNotes(features)) print(`  (${note})`);
  const missing = [...missingFor(features, 'recording'), ...missingFor(features, 'demo')];
  if (missing.length > 0) {
    throw new MediaError('FFMPEG_MISSING_FEATURE', `this ffmpeg lacks ${missing.join(', ')}: install Debian's ffmpeg (apt-get install -y ffmpeg) or set SPREED_BOT_FFMPEG`);
  }

  const server = await startServer({ host: '127.0.0.1', port: options.port ?? 0, logger: log.child({ layer: 'server' }) });
  print(`channeling server: ${server.url}`);
  const room = 'conference/demo';
  const bots: Bot[] = [];
  const live = new LiveModel({ bots: () => bots });
  const consoleServer = await startConsoleServer({ recordingsDir: dir, port: options.consolePort ?? 0, live, logger: log.child({ layer: 'console' }) });
  print(`console:   ${consoleServer.url}  (open it to watch the meeting live)`);
  let shareDir: string | undefined;
  const close = async () => {
    await Promise.allSettled(bots.map((b) => b.stop()));
    await consoleServer.close();
    live.close();
    await server.close();
    if (shareDir) await rm(shareDir, { recursive: true, force: true });
  };
  try {
    const mk = async (name: string, plugins: Bot['options']['plugins'], status?: Bot['options']['status']) => {
      const bot = new Bot({ server: server.url, room, name, plugins, status, logger: log, stopTimeoutMs: 20_000 });
      bots.push(bot);
      await bot.start();
      return bot;
    };
    const recorder = await mk('Recorder', [commands(), autoAnswer(), record({ dir, stopWhenEmptyMs: 1500, notice: 'This meeting is being recorded.' })], {
      message: 'records this room',
    });
    const dropDir = join(dir, 'demo-files');
    await mkdir(dropDir, { recursive: true });
    await removeEarlierCopies(dropDir, SHARED_FILE);
    const fileDrop = await mk('File drop', [collectFiles({ dir: dropDir })], { message: 'collects shared files' });
    print(`room '${room}': Recorder and File drop bots joined`);

    const recorderControl = recorder.services.require('recorder');
    const finalized = firstValueFrom(recorderControl.finalized$);
    const downloads = fileDrop.services.require('fileDownloads');
    const collected = new Promise<DemoProducts['collected']>((done) => {
      downloads.finished$.pipe(take(1)).subscribe((file) => done({ path: file.path }));
      downloads.started$.subscribe(({ info, fetch }) => fetch.done.catch((error: Error) => done({ error: `${info.name}: ${error.message}` })));
    });

    shareDir = await mkdtemp(join(tmpdir(), 'spreed-demo-share-'));
    await writeFile(join(shareDir, SHARED_FILE), 'Demo agenda\n1. Say hello\n2. Share a file\n3. Leave\n');
    const meetingMs = options.meetingMs ?? 8000;
    const alice = await mk('Alice', [
      scriptedParticipant({ toneHz: 440, hue: 0, lines: ['Hi, Alice here.', 'I am sharing the agenda.'] }),
      shareFolder({ dir: shareDir }),
    ]);
    const bob = await mk('Bob', [scriptedParticipant({ toneHz: 660, hue: 120, lines: ['Hello, Bob here.', 'Got it, thanks!'] })]);
    print(`Alice (440 Hz) and Bob (660 Hz) joined and send test patterns for ${Math.round(meetingMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, meetingMs));
    await Promise.all([alice.stop(), bob.stop()]);
    print('Alice and Bob left; the recorder finalises when the room is empty');

    const seconds = AFTER_MEETING_MS / 1000;
    const [recording, file] = await Promise.all([
      within<MeetingRecording | { error: string }>(finalized, AFTER_MEETING_MS, () => ({
        error: recorderControl.state.status === 'idle' ? 'the recording never started (no call reached the Recorder bot)' : `the recording was not finalised within ${seconds} s after the meeting`,
      })),
      within(collected, AFTER_MEETING_MS, () => ({ error: `${SHARED_FILE} did not arrive within ${seconds} s after the meeting` })),
    ]);
    const existing = new Set<string>();
    if (!('error' in recording)) {
      for (const f of recording.files) if ((await stat(join(recording.dir, f.file)).then((s) => s.size, () => 0)) > 0) existing.add(f.file);
    }
    const rel = (p: string) => {
      const r = relative(process.cwd(), p);
      return r && !r.startsWith('..') ? r : p;
    };
    if (!('error' in recording)) {
      print(`recording: ${rel(recording.dir)}`);
      for (const f of recording.files) {
        if (!existing.has(f.file)) continue;
        const note = f.state === 'finished' ? '' : ` [${f.state}]`;
        print(`  ${rel(join(recording.dir, f.file))}  (${f.participantName ?? f.participantId}: ${f.codecs.join('+')})${note}`);
      }
      if (await stat(recording.sidecarPath).then(() => true, () => false)) print(`sidecar:   ${rel(recording.sidecarPath)}`);
      print(`meeting:   ${consoleServer.url}#/meeting/${relative(dir, recording.dir).split(sep).map(encodeURIComponent).join('/')}`);
    }
    if ('path' in file) print(`collected: ${rel(file.path)}`);
    const failures = demoFailures({ participants: ['Alice', 'Bob'], recording, collected: file, existing });
    return {
      server,
      consoleUrl: consoleServer.url,
      recording: 'error' in recording ? undefined : recording,
      collectedFile: 'path' in file ? file.path : undefined,
      failures,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
