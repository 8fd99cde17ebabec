import { Hono } from 'hono';
import { CodedError } from '../util/errors.js';
import { isLoopbackHost, TOKEN_ENV } from './auth.js';
import { consoleRoutes, type ConsoleOptions } from './app.js';
import { listen } from './http-server.js';

/** Options of {@link startConsoleServer}. */
export interface ConsoleServerOptions extends ConsoleOptions {
  /** Listen address. Anything but loopback needs a `token`. @defaultValue `'127.0.0.1'` */
  host?: string;
  /** Port; 0 picks a free one. @defaultValue 9465 */
  port?: number;
}

/** A running console. */
export interface ConsoleServer {
  /** The page's address, e.g. `http://127.0.0.1:9465/`. */
  readonly url: string;
  close(): Promise<void>;
}

/** The console cannot start as asked (e.g. off loopback without a token). */
export class ConsoleError extends CodedError<'TOKEN_REQUIRED'> {}

/**
 * Refuses to expose the console beyond loopback without a token. Pure apart from the error.
 * @throws ConsoleError `TOKEN_REQUIRED`
 */
export function checkExposure(host: string, token: string | undefined): void {
  if (!isLoopbackHost(host) && !token) {
    throw new ConsoleError('TOKEN_REQUIRED', `listening on ${host} needs a console token: set ${TOKEN_ENV} (or the config's token) to a long random string, or listen on 127.0.0.1`);
  }
}

/**
 * Serves the operator console on its own (`spreed-bot console`): the meetings of a recordings
 * directory, and the live view when `live` is given.
 */
export async function startConsoleServer(options: ConsoleServerOptions = {}): Promise<ConsoleServer> {
  const host = options.host ?? '127.0.0.1';
  checkExposure(host, options.token);
  const routes = await consoleRoutes(options);
  const app = new Hono().route('/', routes.app);
  const server = await listen(app, host, options.port ?? 9465);
  return {
    url: `${server.url}/`,
    close: async () => {
      routes.close();
      await server.close();
    },
  };
}
