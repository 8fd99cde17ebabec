/** What kind of failure a {@link ConnectionCause} is. */
export type ConnectionCauseKind =
  /** Nothing listens on the port (`ECONNREFUSED`). */
  | 'refused'
  /** The host name does not resolve (`ENOTFOUND`, `EAI_AGAIN`). */
  | 'dns'
  /** The server answered the WebSocket upgrade with an HTTP status instead of 101. */
  | 'http'
  /** The TLS handshake failed: a wss:// URL for a plain server, or an untrusted certificate. */
  | 'tls'
  /** No answer (no upgrade, or no Self) within the connect timeout. */
  | 'timeout'
  /** The socket closed without an error: the server closed it, with this close code. */
  | 'closed'
  /** An established connection went quiet: nothing received for too long. */
  | 'silent'
  /** Any other network error (`ECONNRESET`, `EHOSTUNREACH`, …). */
  | 'network';

/**
 * Why a connection attempt failed, or why an established connection dropped. Compare two
 * causes with {@link sameCause}.
 */
export interface ConnectionCause {
  readonly kind: ConnectionCauseKind;
  /**
   * The precise code: the system error code (`ECONNREFUSED`, `ENOTFOUND`, `ECONNRESET`),
   * `HTTP 404`, the TLS error code (`EPROTO`, `CERT_HAS_EXPIRED`, …), `timeout`, `close 1006` or `silent`.
   */
  readonly code: string;
  /** One readable line: what happened, and what to check. */
  readonly message: string;
  /** Retrying cannot help without changing the configuration (HTTP 4xx on upgrade, unknown host, TLS). */
  readonly permanent: boolean;
}

type SystemError = Error & { code?: unknown; errors?: unknown };

const TLS_CODES = /^(EPROTO|CERT_|ERR_SSL_|ERR_TLS_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_)/;

/** The cause of a socket 'error' event (Node system errors, TLS errors, ws errors). */
export function causeOfError(error: SystemError): ConnectionCause {
  // Node's happy-eyeballs connect reports an AggregateError with the per-address errors inside.
  const first = Array.isArray(error.errors) && error.errors[0] instanceof Error ? (error.errors[0] as SystemError) : undefined;
  const code = typeof error.code === 'string' ? error.code : typeof first?.code === 'string' ? first.code : '';
  const detail = (error.message || first?.message || 'unknown error').trim();
  if (code === 'ECONNREFUSED') return cause('refused', code, `connection refused (${detail}): is the server running on that port?`, false);
  if (code === 'ENOTFOUND') return cause('dns', code, `unknown host (${detail}): check the host name in the URL`, true);
  if (code === 'EAI_AGAIN') return cause('dns', code, `host name lookup failed for now (${detail}): check DNS and the network`, false);
  if (TLS_CODES.test(code)) return cause('tls', code, `TLS handshake failed (${code}: ${tlsReason(detail)}): ${tlsHint(detail)}`, true);
  if (code === 'ECONNRESET' && /before secure TLS connection/.test(detail)) {
    return cause('tls', code, `the server closed the connection during the TLS handshake: does it speak TLS on this port? use ws:// for a plain server`, false);
  }
  const status = /^Unexpected server response: (\d{3})$/.exec(detail);
  if (status) return causeOfResponse(Number(status[1]), '');
  return cause('network', code || 'error', code && !detail.includes(code) ? `${code}: ${detail}` : detail, false);
}

/** The cause of an upgrade answered with an HTTP status instead of 101. */
export function causeOfResponse(status: number, statusText: string | undefined): ConnectionCause {
  const code = `HTTP ${status}`;
  const what = `${code}${statusText ? ` ${statusText}` : ''} on the WebSocket upgrade`;
  if (status === 404) return cause('http', code, `${what}: wrong path; the Spreed endpoint is <base path>ws, e.g. ws://host:8080/ws`, true);
  // 408 and 429 say "try again later"; 5xx is usually a proxy whose backend is restarting.
  const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
  return cause('http', code, permanent ? `${what}: check the URL and the proxy in front of the server` : what, permanent);
}

/** The cause of a connect timeout; `opened` says whether the WebSocket upgrade had succeeded. */
export function causeOfTimeout(timeoutMs: number, opened: boolean): ConnectionCause {
  return opened
    ? cause('timeout', 'timeout', `no Self within ${timeoutMs} ms after the WebSocket opened: is this a Spreed WebRTC server?`, false)
    : cause('timeout', 'timeout', `no answer within ${timeoutMs} ms`, false);
}

/** The cause of a close without a preceding error. */
export function causeOfClose(code: number, reason: string): ConnectionCause {
  return cause('closed', `close ${code}`, `socket closed (${code}${reason ? ` ${reason}` : ''})`, false);
}

/** The cause of a dead established connection. */
export function causeOfSilence(silentMs: number): ConnectionCause {
  return cause('silent', 'silent', `nothing received for ${silentMs} ms`, false);
}

/** True when both causes have the same kind and code (messages may differ in detail). */
export function sameCause(a: ConnectionCause | undefined, b: ConnectionCause | undefined): boolean {
  return a !== undefined && b !== undefined && a.kind === b.kind && a.code === b.code;
}

function cause(kind: ConnectionCauseKind, code: string, message: string, permanent: boolean): ConnectionCause {
  return { kind, code, message, permanent };
}

/** OpenSSL messages carry a file and line; keep only the reason (`wrong version number`). */
function tlsReason(detail: string): string {
  return /SSL routines:[^:]*:([^:]+):/.exec(detail)?.[1] ?? detail;
}

function tlsHint(detail: string): string {
  return /wrong version number|packet length too long|http request/i.test(detail)
    ? 'the server does not speak TLS on this port; use ws:// instead of wss://'
    : 'check the certificate (NODE_EXTRA_CA_CERTS for a private CA) and the host name';
}
