import type { RTCPeerConnection } from 'werift';

/** Default UDP socket buffer for token connections that carry files. */
export const FILE_TRANSFER_SOCKET_BUFFER = 2 * 1024 * 1024;

interface SocketLike {
  setRecvBufferSize(size: number): void;
  setSendBufferSize(size: number): void;
}

/**
 * Enlarges the UDP socket buffers under a werift peer connection. Call it after
 * `setLocalDescription` (the sockets exist once gathering is done) on both ends of a file transfer.
 *
 * Why: werift runs SCTP in JavaScript, so a busy receiver process leaves datagrams in the kernel
 * queue; with the default ~208 KiB buffer, bursts of a pipelined transfer overflow it (`RcvbufErrors`
 * in /proc/net/snmp), and every loss costs werift an SCTP retransmission timeout of at least 1 s.
 * The kernel caps the size at `net.core.rmem_max` / `wmem_max`.
 *
 * Reaches into werift internals (`iceTransports[].connection.protocols[].transport.socket`); when
 * they are not there it does nothing. Returns how many sockets it changed.
 * @param bytes Requested buffer size. @defaultValue {@link FILE_TRANSFER_SOCKET_BUFFER} (2 MiB)
 */
export function enlargeWeriftSocketBuffers(pc: RTCPeerConnection, bytes = FILE_TRANSFER_SOCKET_BUFFER): number {
  let changed = 0;
  const transports = (pc as unknown as { iceTransports?: unknown[] }).iceTransports ?? [];
  for (const transport of transports) {
    const protocols = (transport as { connection?: { protocols?: unknown[] } }).connection?.protocols ?? [];
    for (const protocol of protocols) {
      const socket = (protocol as { transport?: { socket?: Partial<SocketLike> } }).transport?.socket;
      if (typeof socket?.setRecvBufferSize !== 'function' || typeof socket.setSendBufferSize !== 'function') continue;
      try {
        socket.setRecvBufferSize(bytes);
        socket.setSendBufferSize(bytes);
        changed++;
      } catch {
        // socket not bound yet or already closed: nothing to tune
      }
    }
  }
  return changed;
}
