import { createServer, type Server, type Socket } from 'node:net';

/**
 * A one-connection TCP server on 127.0.0.1 (kernel-chosen port) that an ffmpeg input or output
 * `tcp://127.0.0.1:<port>` connects to: how raw frames and PCM move between node and ffmpeg
 * without touching ffmpeg's stdin (which `stop()` uses for `q`).
 */
export class LiveSocket {
  private readonly server: Server;
  /** Resolves with ffmpeg's connection. */
  readonly connected: Promise<Socket>;
  socket: Socket | undefined;
  /** `tcp://127.0.0.1:<port>` for ffmpeg. */
  readonly url: string;

  private constructor(server: Server) {
    this.server = server;
    const address = server.address();
    this.url = `tcp://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    this.connected = new Promise((resolve) =>
      server.once('connection', (socket) => {
        this.socket = socket;
        socket.on('error', () => undefined); // ffmpeg going away is seen through its exit
        server.close();
        resolve(socket);
      }),
    );
  }

  /** Listens on a free loopback port. */
  static async listen(): Promise<LiveSocket> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    return new LiveSocket(server);
  }

  /** Ends the connection (ffmpeg reads end-of-stream) and stops listening. */
  end(): void {
    this.socket?.end();
    this.server.close();
  }
}
