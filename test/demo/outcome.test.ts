import { describe, expect, it } from 'vitest';
import { demoFailures } from '../../src/demo/outcome.js';
import type { SidecarFile } from '../../src/media/index.js';

const file = (name: string, state: SidecarFile['state'], error?: string): SidecarFile => ({
  participantId: `${name.toLowerCase()}-id`,
  participantName: name,
  file: `${name}.webm`,
  codecs: ['audio/OPUS', 'video/VP8'],
  kinds: ['audio', 'video'],
  segment: 1,
  startedAt: 1,
  state,
  ...(error ? { error } : {}),
});

describe('what the demo reports as missing', () => {
  it('nothing when both recordings are finished files on disk and the file arrived', () => {
    const failures = demoFailures({
      participants: ['Alice', 'Bob'],
      recording: { files: [file('Alice', 'finished'), file('Bob', 'finished')] },
      collected: { path: '/r/demo-files/agenda.txt' },
      existing: new Set(['Alice.webm', 'Bob.webm']),
    });
    expect(failures).toEqual([]);
  });

  it('one readable line per failed recording (ffmpeg reason), missing participant, interrupted file and missing file', () => {
    const failures = demoFailures({
      participants: ['Alice', 'Bob', 'Carol'],
      recording: {
        files: [file('Alice', 'failed', "ffmpeg exited with code 1; last output:\nUnrecognized option 'stats_period'.\nError splitting the argument list"), file('Bob', 'interrupted', 'ffmpeg died from SIGKILL; last output:\n')],
      },
      collected: { error: 'agenda.txt did not arrive within 60 s after the meeting' },
      existing: new Set(['Bob.webm']),
    });
    expect(failures).toEqual([
      "recording of Alice failed: ffmpeg exited with code 1: Unrecognized option 'stats_period'.",
      'recording of Bob is incomplete (Bob.webm, interrupted): ffmpeg died from SIGKILL',
      "recording of Carol failed: no file was started (did Carol's media reach the Recorder?)",
      'file collection failed: agenda.txt did not arrive within 60 s after the meeting',
    ]);
  });

  it('a recording that never finalised is one line', () => {
    expect(demoFailures({ participants: ['Alice'], recording: { error: 'the recording never started (no call reached the Recorder bot)' }, collected: { path: 'x' }, existing: new Set() })).toEqual([
      'recording failed: the recording never started (no call reached the Recorder bot)',
    ]);
  });
});
