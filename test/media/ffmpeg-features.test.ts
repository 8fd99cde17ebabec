import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseContainer } from '../../src/media/container.js';
import { summarizeError } from '../../src/media/errors.js';
import { classifyExit } from '../../src/media/ffmpeg.js';
import {
  adaptedOptions,
  FFMPEG_HELP_ARGS,
  featureNotes,
  missingFor,
  parseAvOptions,
  parseCliOptions,
  parseComponentList,
  parseFfmpegFeatures,
  type FfmpegHelpTexts,
} from '../../src/media/ffmpeg-features.js';
import { describeFfmpeg, ffmpegCandidates } from '../../src/media/ffmpeg-locate.js';
import { recordingInputArgs } from '../../src/media/recording-segment.js';

/** Help texts captured from the bundled @ffmpeg-installer build (4.1, 2018) and Debian 12's 5.1. */
function captured(build: '4.1' | '5.1'): FfmpegHelpTexts {
  const file = { version: 'version', long: 'long', rtsp: 'demuxer-rtsp', adelay: 'filter-adelay', amix: 'filter-amix', xstack: 'filter-xstack', encoders: 'encoders', filters: 'filters' };
  const read = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', 'ffmpeg-help', build, `${name}.txt`), 'utf8');
  return Object.fromEntries(Object.keys(FFMPEG_HELP_ARGS).map((k) => [k, read(file[k as keyof typeof file])])) as unknown as FfmpegHelpTexts;
}

describe('ffmpeg feature detection from its own help text', () => {
  it('the bundled 4.1 build: no -stats_period, socket timeout is -stimeout, no adelay all / amix normalize / xstack fill, no Ogg from RTP Opus', () => {
    const f = parseFfmpegFeatures(captured('4.1'));
    expect(f).toMatchObject({
      version: 'N-47683-g0e8eb07980-static',
      libavformat: '58.24',
      oggOpusFromRtp: false,
      statsPeriod: false,
      rtspSocketTimeout: 'stimeout',
      adelayAll: false,
      amixNormalize: false,
      xstackFill: false,
    });
    expect(['libopus', 'libvpx', 'libx264'].every((e) => f.encoders.has(e))).toBe(true);
    expect(['testsrc2', 'sine', 'hue', 'amix', 'xstack', 'tpad', 'apad', 'atrim'].every((n) => f.filters.has(n))).toBe(true);
    for (const use of ['recording', 'demo', 'mix', 'media-out'] as const) expect(missingFor(f, use)).toEqual([]);
    expect(featureNotes(f)).toEqual([expect.stringMatching(/audio-only recordings are \.webm/)]);
    expect(adaptedOptions(f)).toHaveLength(5);
  });

  it("Debian's 5.1: everything current", () => {
    const f = parseFfmpegFeatures(captured('5.1'));
    expect(f).toMatchObject({ version: '5.1.9-0+deb12u1', libavformat: '59.27', oggOpusFromRtp: true, statsPeriod: true, rtspSocketTimeout: 'timeout', adelayAll: true, amixNormalize: true, xstackFill: true });
    expect(featureNotes(f)).toEqual([]);
    expect(adaptedOptions(f)).toEqual([]);
  });

  it('the RTSP input options follow the detected names', () => {
    expect(recordingInputArgs(parseFfmpegFeatures(captured('4.1')))).toEqual(['-hide_banner', '-loglevel', 'info', '-rtsp_transport', 'tcp', '-stimeout', '10000000']);
    expect(recordingInputArgs(parseFfmpegFeatures(captured('5.1')))).toEqual(['-hide_banner', '-loglevel', 'info', '-stats_period', '1', '-rtsp_transport', 'tcp', '-timeout', '10000000']);
  });

  it('parsers: AVOptions with and without the dash, CLI options, component lists', () => {
    expect(parseAvOptions('  -timeout           <int64>      .D......... set timeout (in microseconds) of socket I/O operations')).toEqual([
      { name: 'timeout', description: 'set timeout (in microseconds) of socket I/O operations' },
    ]);
    expect(parseAvOptions('   all               <boolean>    ..F.A...... use last available delay').map((o) => o.name)).toEqual(['all']);
    expect([...parseCliOptions('-stats_period time  set the period\n-y                  overwrite output files\n  not an option')]).toEqual(['stats_period', 'y']);
    expect([...parseComponentList(' V..... = Video\n ------\n A....D libopus              libopus Opus\n ... testsrc2          |->V       Generate')]).toEqual(['libopus', 'testsrc2']);
  });

  it('an ffmpeg that knows nothing lacks everything, said per feature', () => {
    const f = parseFfmpegFeatures({ version: 'ffmpeg version 9', long: '', rtsp: '', adelay: '', amix: '', xstack: '', encoders: '', filters: '' });
    expect(missingFor(f, 'recording')).toEqual(['demuxer option RTSP socket timeout']);
    expect(missingFor(f, 'demo')).toContain('encoder libvpx');
  });
});

describe('choices made from the features', () => {
  it('audio alone goes to Ogg, or to WebM where Ogg from RTP Opus fails', () => {
    expect(chooseContainer(['audio/opus'])).toEqual({ ext: 'ogg', format: 'ogg' });
    expect(chooseContainer(['audio/opus'], { oggOpus: false })).toEqual({ ext: 'webm', format: 'webm' });
    expect(chooseContainer(['audio/opus', 'video/H264'], { oggOpus: false }).ext).toBe('mkv');
  });

  it('SPREED_BOT_FFMPEG picks the binary', () => {
    expect(ffmpegCandidates(undefined)).toEqual(['system', 'npm']);
    expect(ffmpegCandidates('')).toEqual(['system', 'npm']);
    expect(ffmpegCandidates('bundled')).toEqual(['npm']);
    expect(ffmpegCandidates('system')).toEqual(['system']);
    expect(ffmpegCandidates('/opt/ffmpeg/bin/ffmpeg')).toEqual([{ path: '/opt/ffmpeg/bin/ffmpeg' }]);
    expect(describeFfmpeg({ path: '/x/ffmpeg', source: 'npm', version: 'N-1' })).toBe('bundled npm (@ffmpeg-installer/ffmpeg) ffmpeg N-1 at /x/ffmpeg');
  });
});

describe('an ffmpeg exit, classified', () => {
  it('SIGINT/SIGTERM from someone else: exit 255 after "received signal" is interrupted, not a crash', () => {
    const exit = classifyExit(255, null, false, ['Exiting normally, received signal 15.']);
    expect(exit.interrupted).toBe(true);
    expect(exit.error?.message).toMatch(/signal it did not get from spreed-bot/);
    expect(classifyExit(null, 'SIGKILL', false, []).interrupted).toBe(true);
    expect(classifyExit(255, null, true, ['Exiting normally, received signal 2.'])).toEqual({ interrupted: false }); // we asked
    expect(classifyExit(1, null, false, ["Unrecognized option 'stats_period'."]).interrupted).toBe(false);
    expect(classifyExit(1, null, false, ['av_interleaved_write_frame(): No space left on device']).error?.code).toBe('DISK_FULL');
  });

  it('summarizeError keeps one readable line with the telling ffmpeg line', () => {
    const message = "ffmpeg exited with code 1; last output:\nUnrecognized option 'stats_period'.\nError splitting the argument list: Option not found";
    expect(summarizeError(message)).toBe("ffmpeg exited with code 1: Unrecognized option 'stats_period'.");
    expect(summarizeError('no media arrived before the recording stopped')).toBe('no media arrived before the recording stopped');
    expect(summarizeError('ffmpeg exited with code 1; last output:\nffmpeg stats period set\nsimulated: gone')).toBe('ffmpeg exited with code 1: simulated: gone');
  });
});
