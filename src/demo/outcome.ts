import { summarizeError, type SidecarFile } from '../media/index.js';

/** What one demo round produced, as far as the judgement below needs it. */
export interface DemoProducts {
  /** Display names that should have been recorded. */
  participants: readonly string[];
  /** The finalised recording's files (from `meeting.json`), or why there is none. */
  recording: { files: readonly SidecarFile[] } | { error: string };
  /** The collected file's path, or why there is none. */
  collected: { path: string } | { error: string };
  /** Paths (as in `files[].file`) that exist on disk with at least one byte. */
  existing: ReadonlySet<string>;
}

/**
 * One readable line per thing the demo promised but did not produce: a participant without a
 * finished, existing recording (with ffmpeg's reason), a file that ended early, the missing
 * collected file. Empty when everything is there. Pure.
 */
export function demoFailures(products: DemoProducts): string[] {
  const failures: string[] = [];
  if ('error' in products.recording) failures.push(`recording failed: ${summarizeError(products.recording.error)}`);
  else {
    const files = products.recording.files;
    for (const name of products.participants) {
      const mine = files.filter((f) => (f.participantName ?? f.participantId) === name);
      const good = mine.filter((f) => f.state === 'finished' && products.existing.has(f.file));
      if (good.length > 0) continue;
      const bad = mine.find((f) => f.error) ?? mine[0];
      if (!bad) failures.push(`recording of ${name} failed: no file was started (did ${name}'s media reach the Recorder?)`);
      else if (bad.state === 'finished' || bad.state === 'interrupted') {
        const why = bad.error ? summarizeError(bad.error) : 'the file is missing or empty';
        failures.push(`recording of ${name} is incomplete (${bad.file}, ${bad.state}): ${why}`);
      } else failures.push(`recording of ${name} failed: ${summarizeError(bad.error ?? `the file stayed '${bad.state}'`)}`);
    }
  }
  if ('error' in products.collected) failures.push(`file collection failed: ${summarizeError(products.collected.error)}`);
  return failures;
}
