/**
 * File sharing glue for the test bot: src/files (SharedFiles, FileServer, fetchFile) on top of
 * the CallManager's token connections, the way the bot framework wires them.
 */
import { randomBytes } from 'node:crypto';
import { frames } from '../../src/protocol/index.js';
import { FileServer, SharedFiles, fromWeriftDataChannel, type FileInfo, type TokenConnector } from '../../src/files/index.js';
import type { TestBot } from './bot.js';

export interface BotFiles {
  files: SharedFiles;
  server: FileServer;
  /** Opens token connections for fetchFile. */
  connector: TokenConnector;
  /** Announces a FileInfo like the web client: Chat `Message:"File"`, `Status.FileInfo`, NoEcho, 32-hex Mid. */
  announce(info: FileInfo, to?: string): void;
  close(): void;
}

export function attachFiles(bot: TestBot): BotFiles {
  const files = new SharedFiles({ ownId: bot.id });
  const server = new FileServer({ files });
  const unregister = bot.calls.registerToken({
    match: (token) => server.accepts(token),
    onConnection: (conn) => {
      server.serve(fromWeriftDataChannel(conn.dataChannel!, { owner: conn }), conn.token, { id: conn.peerId });
    },
  });
  const connector: TokenConnector = {
    open: async (peerId, token, signal) => {
      const conn = await bot.calls.connectToken(peerId, token, { signal });
      return fromWeriftDataChannel(conn.dataChannel!, { owner: conn });
    },
  };
  return {
    files,
    server,
    connector,
    announce(info, to = '') {
      bot.channel.send(frames.chat(to, { Mid: randomBytes(16).toString('hex'), Message: 'File', Status: { FileInfo: info }, NoEcho: true }));
    },
    close() {
      unregister();
      server.close();
    },
  };
}
