import { mixdown } from '../../media/index.js';
import { createLogger } from '../../util/logger.js';
import { parse, str, UsageError } from '../args.js';

export const mixHelp = `Usage: spreed-bot mix <recording dir> [--output FILE]

Mixes a recording into one file using its meeting.json: every participant's audio mixed and
their video in a grid, aligned by the sidecar's first-sample times (this one transcodes).

Options:
  --output FILE   output path (default <dir>/mix.webm, or mix.ogg for audio-only meetings)
  -h, --help      show this help`;

/** `spreed-bot mix`. */
export async function mixCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { output: { type: 'string' } });
  if (values.help) {
    console.log(mixHelp);
    return 0;
  }
  const dir = positionals[0];
  if (!dir) throw new UsageError('missing <recording dir> (the folder with meeting.json)');
  const result = await mixdown(dir, { output: str(values, 'output'), logger: createLogger({ name: 'mix', level: 'warn' }) });
  for (const input of result.inputs) console.log(`  ${input.file} at +${Math.round(input.offsetMs)} ms (${input.kinds.join('+')})`);
  console.log(`mixed ${result.inputs.length} file(s) into ${result.file}`);
  return 0;
}
