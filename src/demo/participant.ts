import { ensureCalls } from '../bot/plugins/calls.js';
import type { Plugin } from '../bot/plugin.js';
import { TestPatternSource } from './test-pattern.js';

/** What a scripted participant does. */
export interface ScriptedParticipantOptions {
  /** Tone in Hz (tells participants apart by ear). */
  toneHz: number;
  /** Hue of the test picture in degrees (tells them apart by eye). */
  hue: number;
  /** Chat lines said one after another while in the meeting. */
  lines: string[];
  /** Pause between lines and Talking changes, ms. @defaultValue 1500 */
  stepMs?: number;
  /** Picture size of the test pattern (smaller is cheaper for many participants). @defaultValue `'320x240'` */
  size?: string;
  /** Frames per second of the test pattern. @defaultValue 15 */
  fps?: number;
}

/**
 * A demo participant: sends a live test picture and tone into every call (it joins a
 * Conference-type room, so calls form by themselves), says its chat lines, and flips its
 * `Talking` state on the call data channels like the web client's level meter.
 */
export function scriptedParticipant(options: ScriptedParticipantOptions): Plugin {
  return {
    name: 'scripted',
    async setup(ctx) {
      const source = new TestPatternSource({ toneHz: options.toneHz, hue: options.hue, size: options.size, fps: options.fps, logger: ctx.logger });
      const calls = ensureCalls(ctx, {
        media: { audio: 'sendrecv', video: 'sendrecv', audioTrack: source.audioTrack, videoTrack: source.videoTrack },
      });
      await source.start();
      const step = options.stepMs ?? 1500;
      let talking = false;
      let line = 0;
      const timer = setInterval(() => {
        talking = !talking;
        for (const call of calls.calls.values()) if (call.state.status === 'connected') call.sendTalking(talking);
        if (talking && line < options.lines.length) ctx.chat.send(options.lines[line++]!);
      }, step);
      return () => {
        clearInterval(timer);
        source.stop();
      };
    },
  };
}
