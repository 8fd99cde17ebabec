import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { firstValueFrom, timeout } from 'rxjs';
import { Bot } from '../bot/bot.js';
import { autoAnswer } from '../bot/plugins/calls.js';
import { commands } from '../bot/plugins/commands.js';
import { collectFiles, shareFolder } from '../bot/plugins/files.js';
import { record } from '../bot/plugins/record.js';
import { locateFfmpeg, type MeetingRecording } from '../media/index.js';
import { startServer, type ChannelingServer } from '../server/index.js';
import type { Logger } from '../util/logger.js';
import { scriptedParticipant } from './participant.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  logger: Logger;
  /** Where recordings and the collected file go. @defaultValue `'recordings'` */
  dir?: string;
  /** Server port (0 = any free one). @defaultValue 0 */
  port?: number;
  /** How long the scripted participants stay, ms. @defaultValue 8000 */
  meetingMs?: number;
  /** Print a line for the user. @defaultValue console.log */
  print?: (line: string) => void;
}

/** What one demo round produced. */
export interface DemoResult {
  server: ChannelingServer;
  recording: MeetingRecording;
  collectedFile: string;
  /** Stops the bots and the server. */
  close(): Promise<void>;
}

/**
 * One round of the demo: an embedded server, a recorder bot and a file-drop bot in the
 * Conference-type room `conference/demo`, and two scripted participants that join, talk,
 * chat, share a file and leave. Resolves when the recording is finalised and the file collected.
 */
export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const log = options.logger;
  const dir = resolve(options.dir ?? 'recordings');
  const ffmpeg = await locateFfmpeg();
  print(`ffmpeg: ${ffmpeg.source === 'system' ? 'system' : 'bundled npm (@ffmpeg-installer/ffmpeg)'} ffmpeg ${ffmpeg.version} at ${ffmpeg.path}`);

  const server = await startServer({ host: '127.0.0.1', port: options.port ?? 0, logger: log.child({ layer: 'server' }) });
  print(`channeling server: ${server.url}`);
  const room = 'conference/demo';
  const bots: Bot[] = [];
  const close = async () => {
    await Promise.allSettled(bots.map((b) => b.stop()));
    await server.close();
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
    const fileDrop = await mk('File drop', [collectFiles({ dir: dropDir })], { message: 'collects shared files' });
    print(`room '${room}': Recorder and File drop bots joined`);

    const finalized = firstValueFrom(recorder.services.require('recorder').finalized$.pipe(timeout(120_000)));
    const collected = firstValueFrom(fileDrop.services.require('fileDownloads').finished$.pipe(timeout(120_000)));

    const shareDir = await mkdtemp(join(tmpdir(), 'spreed-demo-share-'));
    await writeFile(join(shareDir, 'agenda.txt'), 'Demo agenda\n1. Say hello\n2. Share a file\n3. Leave\n');
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

    const [recording, file] = await Promise.all([finalized, collected]);
    const rel = (p: string) => {
      const r = relative(process.cwd(), p);
      return r && !r.startsWith('..') ? r : p;
    };
    print(`recording: ${rel(recording.dir)}`);
    for (const f of recording.files) print(`  ${rel(join(recording.dir, f.file))}  (${f.participantName ?? f.participantId}: ${f.codecs.join('+')})`);
    print(`sidecar:   ${rel(recording.sidecarPath)}`);
    print(`collected: ${rel(file.path)}`);
    return { server, recording, collectedFile: file.path, close };
  } catch (error) {
    await close();
    throw error;
  }
}
