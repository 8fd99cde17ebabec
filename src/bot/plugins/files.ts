import { resolve } from 'node:path';
import { Subject, debounceTime, filter, mergeMap, type Observable } from 'rxjs';
import { z } from 'zod';
import {
  FileServer,
  SharedFiles,
  decideFetch,
  enlargeWeriftSocketBuffers,
  fetchFile,
  fromWeriftDataChannel,
  type ChunkChannel,
  type FetchPolicy,
  type FetchResult,
  type FileFetch,
  type FileInfo,
  type TokenConnector,
} from '../../files/index.js';
import type { CallManager, TokenConnection } from '../../peer/index.js';
import { ensureReadableDir, ensureWritableDir } from '../dir-checks.js';
import type { Plugin, PluginContext } from '../plugin.js';
import { optionTypes, parsePluginOptions } from '../plugin-options.js';
import { ensureCalls } from './calls.js';

declare module '../services.js' {
  interface Services {
    /** Files the bot shares (set up by {@link shareFolder}). */
    sharedFiles: SharedFiles;
    /** Downloads of the {@link collectFiles} plugin. */
    fileDownloads: FileDownloads;
  }
}

/** Downloads of the {@link collectFiles} plugin, for user code and the CLI progress bar. */
export interface FileDownloads {
  /** Every download as it starts. */
  readonly started$: Observable<{ info: FileInfo; from: string; fetch: FileFetch }>;
  /** Every finished, verified file. */
  readonly finished$: Observable<FetchResult & { info: FileInfo; from: string }>;
}

/**
 * Call options when file sharing is all a bot does: calls (e.g. in Conference-type rooms) carry
 * no media, so recorders do not see an empty participant.
 */
const FILES_ONLY = { media: { audio: 'none', video: 'none' } } as const;

function chunkChannelOf(connection: TokenConnection): ChunkChannel {
  const dc = connection.dataChannel;
  if (!dc) throw new Error(`token connection to ${connection.peerId} has no data channel`);
  // Bulk transfer: bigger UDP socket buffers avoid kernel drops that stall werift's SCTP for ≥ 1 s.
  enlargeWeriftSocketBuffers(connection.peerConnection);
  return fromWeriftDataChannel(dc, { owner: connection });
}

/** A {@link TokenConnector} over the bot's CallManager: one token Offer per connection. */
export function tokenConnector(calls: CallManager): TokenConnector {
  return {
    async open(peerId, token, signal) {
      const connection = await calls.connectToken(peerId, token, { signal });
      return chunkChannelOf(connection);
    },
  };
}

const { positiveInt, path } = optionTypes;

/** Options of {@link shareFolder}. */
export interface ShareFolderOptions {
  /** Folder whose files (recursively) are shared; it must exist. Nothing outside it is ever served. */
  dir: string;
  /** Announce the files in the room chat at start. @defaultValue `true` */
  announce?: boolean;
  /**
   * How people who join later learn about the files: `'room'` announces them again in the room
   * chat `joinAnnounceDelayMs` after the last join (one announcement for a burst of joiners);
   * `'off'` only on `!files`; `'private'` sends them privately to each joiner — the web client
   * then makes that private chat the joiner's active chat, so their next message or file goes to
   * the bot instead of the room. @defaultValue `'room'`
   */
  announceToJoiners?: 'room' | 'private' | 'off';
  /** Quiet time after the last join before the room announcement. @defaultValue `5000` */
  joinAnnounceDelayMs?: number;
}

/** Schema of {@link ShareFolderOptions}, checked when the plugin is created. */
export const shareFolderOptionsSchema = z
  .object({
    dir: path(),
    announce: z.boolean().default(true),
    announceToJoiners: z.enum(['room', 'private', 'off']).default('room'),
    joinAnnounceDelayMs: z.number().int().nonnegative().default(5000),
  })
  .strict();

/**
 * Shares a folder: announces each file with a `FileInfo` chat message exactly like the web
 * client (`Message: "File"`), answers token Offers for those tokens, and serves chunks to any
 * number of connections per token. Joiners see the files in the room chat (see
 * {@link ShareFolderOptions.announceToJoiners}); `!files` re-announces (privately to the asker
 * for a private request, to the room otherwise). The folder must exist and be readable when the
 * bot starts (`preflight`).
 */
export function shareFolder(options: ShareFolderOptions): Plugin {
  const settings = parsePluginOptions('shareFolder', shareFolderOptionsSchema, options);
  const dir = resolve(settings.dir);
  return {
    name: 'shareFolder',
    preflight: () => ensureReadableDir(dir, 'shared folder'),
    async setup(ctx) {
      const calls = ensureCalls(ctx, FILES_ONLY);
      const shared = new SharedFiles({ ownId: ctx.bot.id, root: dir, logger: ctx.logger });
      const infos = await shared.shareFolder(dir);
      const server = new FileServer({ files: shared, logger: ctx.logger });
      ctx.services.provide('sharedFiles', shared);
      let served = 0;
      const unregister = calls.registerToken({
        match: (token) => server.accepts(token),
        onConnection: (connection) => {
          served += 1;
          server.serve(chunkChannelOf(connection), connection.token, { id: connection.peerId, displayName: ctx.displayName(connection.peerId) });
        },
      });
      const announce = (to = '') => {
        for (const shared of infos) ctx.chat.send('File', { to, status: { FileInfo: shared } });
      };
      if (settings.announce) announce();
      const joinSub =
        settings.announceToJoiners === 'private'
          ? ctx.joined$.subscribe((p) => announce(p.id))
          : settings.announceToJoiners === 'room'
            ? ctx.joined$.pipe(debounceTime(settings.joinAnnounceDelayMs)).subscribe(() => announce())
            : undefined;
      const off = ctx.commands.register({
        name: 'files',
        help: 'lists the files the bot shares',
        run: (_args, message) => {
          if (infos.length === 0) return 'no files shared';
          announce(message.private ? message.from : '');
        },
      });
      ctx.onMetrics(() => ({ fileTransfers: [{ direction: 'serve', count: served, bytes: server.bytesServed }] }));
      ctx.logger.info({ dir, files: infos.length }, 'sharing folder');
      return () => {
        joinSub?.unsubscribe();
        off();
        unregister();
        server.close();
        ctx.services.remove('sharedFiles');
      };
    },
  };
}

/** Options of {@link collectFiles}. */
export interface CollectFilesOptions {
  /** Folder the files are saved in (created if missing; checked for write access when the bot starts). */
  dir: string;
  /**
   * Which announced files to download. @defaultValue `{ kind: 'everyone' }`
   */
  policy?: FetchPolicy;
  /** Parallel token connections per file. @defaultValue `2` */
  connections?: number;
  /** Chunk requests in flight per connection (1 = the web client's stop-and-wait). @defaultValue `16` */
  window?: number;
  /** Confirm in chat when a file was saved: in the room for files shared there, privately for private ones. @defaultValue `false` */
  confirm?: boolean;
}

const names = z.array(z.string().min(1));
const fetchPolicySchema: z.ZodType<FetchPolicy> = z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('everyone') }).strict(),
    z.object({ kind: z.literal('never') }).strict(),
    z.object({ kind: z.literal('allow-list'), ids: names.optional(), names: names.optional() }).strict(),
    z.object({ kind: z.literal('max-size'), bytes: z.number().int().nonnegative() }).strict(),
    z.object({ kind: z.literal('type'), patterns: names }).strict(),
    z.object({ kind: z.literal('all'), policies: z.array(fetchPolicySchema) }).strict(),
  ]),
);

/** Schema of {@link CollectFilesOptions}, checked when the plugin is created. */
export const collectFilesOptionsSchema = z
  .object({
    dir: path(),
    policy: fetchPolicySchema.default({ kind: 'everyone' }),
    connections: positiveInt().max(16).optional(),
    window: positiveInt().max(256).optional(),
    confirm: z.boolean().default(false),
  })
  .strict();

/**
 * Collects every file shared in the room (by people and by other bots) into a folder: sees
 * `FileInfo` announcements in chat, decides by policy, downloads with pipelined requests over
 * token connections, verifies every chunk's CRC, and renames the temporary file into place when
 * complete. On stop, running downloads get the bot's drain time to finish. The folder is created
 * and checked for write access when the bot starts (`preflight`).
 */
export function collectFiles(options: CollectFilesOptions): Plugin {
  const settings = parsePluginOptions('collectFiles', collectFilesOptionsSchema, options);
  const dir = resolve(settings.dir);
  return {
    name: 'collectFiles',
    preflight: () => ensureWritableDir(dir, 'collectFiles dir'),
    setup(ctx: PluginContext<unknown>) {
      const calls = ensureCalls(ctx, FILES_ONLY);
      const connector = tokenConnector(calls);
      const policy = settings.policy;
      const started = new Subject<{ info: FileInfo; from: string; fetch: FileFetch }>();
      const finished = new Subject<FetchResult & { info: FileInfo; from: string }>();
      const running = new Map<string, FileFetch>();
      const seen = new Set<string>();
      let done = 0;
      let bytes = 0;
      ctx.services.provide('fileDownloads', { started$: started.asObservable(), finished$: finished.asObservable() });
      // Files other bots share count too: allChat$, not chat$.
      const sub = ctx.allChat$
        .pipe(
          filter((m) => !!m.status?.FileInfo),
          mergeMap(async (message) => {
            const info = message.status!.FileInfo!;
            if (seen.has(info.id)) return; // announced again (e.g. !files): already fetched or fetching
            const decision = decideFetch(policy, info, { id: message.from, displayName: message.fromName });
            if (!decision.fetch) {
              ctx.logger.info({ file: info.name, from: message.fromName, why: decision.reason }, 'not fetching file');
              return;
            }
            seen.add(info.id);
            const fetch = fetchFile({
              connector,
              peerId: message.from,
              info,
              targetDir: dir,
              connections: settings.connections,
              window: settings.window,
              logger: ctx.logger,
            });
            running.set(info.id, fetch);
            started.next({ info, from: message.from, fetch });
            ctx.logger.info({ file: info.name, size: info.size, from: message.fromName }, 'fetching file');
            try {
              const result = await fetch.done;
              done += 1;
              bytes += result.size;
              finished.next({ ...result, info, from: message.from });
              ctx.logger.info({ path: result.path, size: result.size }, 'file saved');
              // Answer where the file was shared: a private confirmation would move the web client's active chat.
              if (settings.confirm) ctx.chat.reply(message, `saved ${result.name} (${result.size} bytes)`);
            } catch (error) {
              seen.delete(info.id); // a later announcement may retry
              ctx.logger.error({ err: error, file: info.name }, 'file download failed');
            } finally {
              running.delete(info.id);
            }
          }),
        )
        .subscribe();
      ctx.onMetrics(() => ({ fileTransfers: [{ direction: 'fetch', count: done, bytes }] }));
      ctx.onStop(async () => {
        await Promise.allSettled([...running.values()].map((f) => f.done));
      });
      return () => {
        sub.unsubscribe();
        for (const f of running.values()) f.cancel();
        started.complete();
        finished.complete();
        ctx.services.remove('fileDownloads');
      };
    },
  };
}
