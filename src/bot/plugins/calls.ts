import { filter } from 'rxjs';
import type { MediaStreamTrack, RTCPeerConnection } from 'werift';
import { z } from 'zod';
import { CallManager, answerPolicy, type AnswerPolicy, type Call, type CallManagerOptions, type TokenConnection } from '../../peer/index.js';
import type { Received } from '../../protocol/index.js';
import type { Plugin, PluginContext } from '../plugin.js';
import { optionTypes, parsePluginOptions } from '../plugin-options.js';

declare module '../services.js' {
  interface Services {
    /** The bot's calls, conferences and token connections (set up by the calls-related plugins). */
    calls: CallManager;
  }
}

/** What plugins add to the shared call manager after it was created. */
export interface CallsExtras {
  /** Run for every new peer connection (e.g. the recorder's bandwidth feedback). */
  readonly peerConnectionHooks: Set<(pc: RTCPeerConnection, owner: Call | TokenConnection) => void>;
  /** Audio track sent into calls that have none configured (e.g. the recorder's spoken notice). */
  audioTrack?: MediaStreamTrack;
}

const extrasByManager = new WeakMap<CallManager, CallsExtras>();

/** The extras of the bot's call manager (creating the manager if needed). */
export function callsExtras(ctx: PluginContext<unknown>): CallsExtras {
  return extrasByManager.get(ensureCalls(ctx))!;
}

/** Options of the calls service (see {@link CallManagerOptions}). */
export type CallsOptions = Omit<CallManagerOptions, 'signaling' | 'logger'>;

/**
 * Returns the bot's CallManager, creating it on first use: the first plugin that needs calls
 * (autoAnswer, record, shareFolder, collectFiles, …) sets it up with its options; it is closed
 * when the bot stops. Chat arriving on call data channels is fed into `ctx.chat$`, and the bot's
 * Status advertises `autoCalls` (PROTOCOL-NOTES §4.4) when AutoCall callbacks are enabled.
 */
export function ensureCalls(ctx: PluginContext<unknown>, options: CallsOptions = {}): CallManager {
  const existing = ctx.services.get('calls');
  if (existing) return existing;
  const extras: CallsExtras = { peerConnectionHooks: new Set() };
  const configured = options.media?.audioTrack;
  const manager = new CallManager({
    ...options,
    media: {
      ...options.media,
      audioTrack: (peerId) => (typeof configured === 'function' ? configured(peerId) : configured) ?? extras.audioTrack,
    },
    onPeerConnection: (pc, owner) => {
      options.onPeerConnection?.(pc, owner);
      for (const hook of extras.peerConnectionHooks) {
        try {
          hook(pc, owner);
        } catch (error) {
          ctx.logger.warn({ err: error }, 'peer connection hook failed');
        }
      }
    },
    signaling: ctx.signaling,
    logger: ctx.logger.child({ layer: 'peer' }),
  });
  extrasByManager.set(manager, extras);
  ctx.services.provide('calls', manager);
  const sub = manager.documents$
    .pipe(filter((r): r is Received<'Chat'> => r.kind === 'Chat'))
    .subscribe((chat) => ctx.chat.receive(chat));
  const autoCalls = options.autoCalls ?? ['conference'];
  if (autoCalls.length > 0) ctx.updateStatus({ autoCalls: [...autoCalls] });
  ctx.onMetrics(() => ({ callsActive: [...manager.calls.values()].filter((c) => c.state.status !== 'closed').length }));
  ctx.onClose(() => {
    sub.unsubscribe();
    manager.close();
    ctx.services.remove('calls');
  });
  return manager;
}

/** Options of {@link autoAnswer}. */
export interface AutoAnswerOptions extends CallsOptions {
  /**
   * Who gets answered: `everyone`, `allow` (ids or display names), `after-autocall` (only peers
   * the bot asked to call back), `never`. Others get `Bye {Reason:"reject"}`; with
   * `busyWhenInCall` callers get `busy` while the bot is in a call.
   * @defaultValue `{ kind: 'everyone' }`
   */
  policy?: AnswerPolicy | 'everyone' | 'never' | 'after-autocall' | { allow: string[] };
}

const { positiveInt, fn } = optionTypes;
const busyWhenInCall = z.boolean().optional();
const direction = z.enum(['sendrecv', 'recvonly', 'none']).optional();
const track = z.custom<unknown>((v) => v === undefined || typeof v === 'function' || (typeof v === 'object' && v !== null), {
  message: 'expected a werift MediaStreamTrack or a function (peerId) => track',
});

/** Schema of {@link AutoAnswerOptions} (the policy and the calls options), checked when the plugin is created. */
export const autoAnswerOptionsSchema = z
  .object({
    policy: z
      .union([
        z.enum(['everyone', 'never', 'after-autocall']),
        z.object({ allow: z.array(z.string().min(1)) }).strict(),
        z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('everyone'), busyWhenInCall }).strict(),
          z.object({ kind: z.literal('allow'), allow: z.array(z.string().min(1)), busyWhenInCall }).strict(),
          z.object({ kind: z.literal('after-autocall'), busyWhenInCall }).strict(),
          z.object({ kind: z.literal('never') }).strict(),
        ]),
      ])
      .optional(),
    answer: fn('the answer handler').optional(),
    pickupTimeoutMs: positiveInt().optional(),
    ringTimeoutMs: positiveInt().optional(),
    renegotiation: z.boolean().optional(),
    media: z.object({ audio: direction, video: direction, audioTrack: track, videoTrack: track }).strict().optional(),
    codecs: z.union([fn('a codecs factory'), z.object({}).passthrough()]).optional(),
    onPeerConnection: fn('onPeerConnection').optional(),
    iceAdditionalHostAddresses: z.array(z.string().min(1)).optional(),
    autoCalls: z.array(z.string().min(1)).optional(),
    autoCallWindowMs: positiveInt().optional(),
    autoConference: z.boolean().optional(),
    redial: z.union([z.literal(false), z.object({ attempts: z.number().int().min(0).optional(), delayMs: positiveInt().optional() }).strict()]).optional(),
  })
  .strict();

function toPolicy(policy: AutoAnswerOptions['policy']): AnswerPolicy {
  if (!policy || policy === 'everyone') return { kind: 'everyone' };
  if (policy === 'never') return { kind: 'never' };
  if (policy === 'after-autocall') return { kind: 'after-autocall' };
  if ('allow' in policy && !('kind' in policy)) return { kind: 'allow', allow: policy.allow };
  return policy as AnswerPolicy;
}

/**
 * Answers incoming calls by policy. Conference offers for the bot's conference, AutoCall
 * callbacks it asked for and token connections are handled by the CallManager itself.
 *
 * @example
 * ```ts
 * new Bot({ …, plugins: [autoAnswer({ policy: { allow: ['Alice'] } })] });
 * ```
 */
export function autoAnswer(options: AutoAnswerOptions = {}): Plugin {
  parsePluginOptions('autoAnswer', autoAnswerOptionsSchema, options);
  return {
    name: 'autoAnswer',
    setup(ctx) {
      const { policy, ...callOptions } = options;
      const calls = ensureCalls(ctx, callOptions);
      const decide = answerPolicy(toPolicy(policy));
      let draining = false;
      calls.setAnswerHandler((context) => (draining ? 'busy' : decide({ ...context, displayName: context.displayName ?? ctx.displayName(context.peerId) })));
      // While the bot drains (stopping), new callers hear busy.
      ctx.onStop(() => {
        draining = true;
      });
    },
  };
}
