import { afterEach } from 'vitest';
import { startServer, type ChannelingServer, type ServerOptions } from '../../src/server/index.js';
import { TestClient } from './client.js';

/** Per-test server and clients, all closed after each test. */
export function useServer(options: ServerOptions = {}) {
  const servers: ChannelingServer[] = [];
  const clients: TestClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const server of servers.splice(0)) await server.close();
  });
  return {
    async start(extra: ServerOptions = {}): Promise<ChannelingServer> {
      const server = await startServer({ port: 0, ...options, ...extra });
      servers.push(server);
      return server;
    },
    async connect(server: ChannelingServer, opts?: { token?: string; autoPong?: boolean }): Promise<TestClient> {
      const client = await TestClient.connect(server.url, opts);
      clients.push(client);
      return client;
    },
    /** A fresh server with clients `a` and `b` in `room`; `a` has already seen `b`'s Joined. */
    async joinedPair(room: string): Promise<{ server: ChannelingServer; a: TestClient; b: TestClient }> {
      const server = await this.start();
      const a = await this.connect(server);
      const b = await this.connect(server);
      await a.hello(room);
      await b.hello(room);
      await a.nextOfType('Joined');
      return { server, a, b };
    },
  };
}

/** Inner document builders shaped like the stock web client's frames (PROTOCOL-NOTES §13). */
export const f = {
  offer: (to: string, extra: Record<string, unknown> = {}) => ({
    Type: 'Offer',
    Offer: { To: to, Type: 'Offer', Offer: { type: 'offer', sdp: 'v=0\r\n', ...extra } },
  }),
  answer: (to: string) => ({ Type: 'Answer', Answer: { To: to, Type: 'Answer', Answer: { type: 'answer', sdp: 'v=0\r\n' } } }),
  candidate: (to: string) => ({
    Type: 'Candidate',
    Candidate: { To: to, Type: 'Candidate', Candidate: { type: 'candidate', sdpMLineIndex: 0, sdpMid: '0', candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host' } },
  }),
  bye: (to: string, bye: unknown = {}) => ({ Type: 'Bye', Bye: { To: to, Type: 'Bye', Bye: bye } }),
  chat: (to: string, chat: Record<string, unknown>) => ({ Type: 'Chat', Chat: { To: to, Type: 'Chat', Chat: chat } }),
  status: (status: unknown) => ({ Type: 'Status', Status: { Type: 'Status', Status: status } }),
  conference: (id: string, ids: string[]) => ({ Type: 'Conference', Conference: { Id: id, Type: 'Conference', Conference: ids } }),
  alive: (n: number) => ({ Type: 'Alive', Alive: { Type: 'Alive', Alive: n } }),
};
