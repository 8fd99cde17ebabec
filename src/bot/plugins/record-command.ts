import type { PluginCommands } from '../commands.js';
import type { RecorderControl } from './record-options.js';

/** Registers `!record start|stop|status` for a recorder; returns the unregister function. */
export function registerRecordCommand(commands: PluginCommands, recorder: RecorderControl, trackCount: () => number): () => void {
  return commands.register({
    name: 'record',
    usage: 'start|stop|status',
    help: 'controls the meeting recording',
    run: async (args) => {
      switch ((args[0] ?? 'status').toLowerCase()) {
        case 'start':
          return `recording to ${await recorder.start()}`;
        case 'stop': {
          const result = await recorder.stop();
          return result ? `recording stopped: ${result.files.length} file(s) in ${result.dir}` : 'not recording';
        }
        case 'status': {
          const state = recorder.state;
          if (state.status !== 'recording') return state.status === 'idle' ? 'not recording' : 'stopping';
          const secs = Math.round((Date.now() - state.startedAt) / 1000);
          return `recording for ${secs}s to ${state.dir} (${trackCount()} track(s), ${recorder.stats?.packetsReceived ?? 0} packets)`;
        }
        default:
          return 'usage: !record start|stop|status';
      }
    },
  });
}
