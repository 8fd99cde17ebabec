/**
 * Audio the bot sends in interop tests, through src/media's media-out: a 440 Hz tone file (made
 * once with ffmpeg) looped by `playFile` into a werift track, so the page measures real audio
 * energy; without ffmpeg (or with `silence`), `playSilence`.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MediaStreamTrack } from 'werift';
import { playFile, playSilence, type Playback } from '../../src/media/index.js';

export interface BotAudio {
  track: MediaStreamTrack;
  /** 'tone' (media-out playFile of a sine) or 'silence' (media-out playSilence). */
  source: 'tone' | 'silence';
  close(): Promise<void>;
}

/** Starts a looped 440 Hz tone on a werift audio track or, with `silence` or no ffmpeg, Opus silence. */
export async function startBotAudio(options: { silence?: boolean } = {}): Promise<BotAudio> {
  const track = new MediaStreamTrack({ kind: 'audio' });
  if (!options.silence) {
    const dir = await mkdtemp(join(tmpdir(), 'interop-tone-'));
    const wav = join(dir, 'tone.wav');
    try {
      await promisify(execFile)('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=2', '-ac', '2', '-y', wav]);
      const playback: Playback = await playFile(wav, track, { loop: true });
      return {
        track,
        source: 'tone',
        close: async () => {
          playback.stop();
          await playback.done;
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const playback = playSilence(track);
  return {
    track,
    source: 'silence',
    close: async () => {
      playback.stop();
      await playback.done;
    },
  };
}
