import type { Plugin } from '../plugin.js';
import { commands } from './commands.js';
import { autoAnswer } from './calls.js';
import { collectFiles, shareFolder } from './files.js';
import { record } from './record.js';
import { stream } from './stream.js';

export { commands, type CommandsOptions } from './commands.js';
export { collectFiles, shareFolder, tokenConnector, type CollectFilesOptions, type ShareFolderOptions, type FileDownloads } from './files.js';
export { record, type RecordOptions, type RecordAutoStart, type RecorderControl, type RecordingState } from './record.js';
export { stream, type StreamOptions } from './stream.js';
export { ScreenShares, ensureScreenShares, type ScreenShare, type ScreenShareEvent } from './screen-shares.js';
export { autoAnswer, ensureCalls, type AutoAnswerOptions, type CallsOptions } from './calls.js';

/** Built-in plugins by the name a config file uses, each a factory `(options) => Plugin`. */
export const builtinPlugins: Record<string, (options?: any) => Plugin<any>> = {
  commands,
  autoAnswer,
  shareFolder,
  collectFiles,
  record,
  stream,
};
