import type { RTCPeerConnection } from 'werift';

/** The parts of a Node UDP socket the tuning helpers use. */
export interface UdpSocketLike {
  setRecvBufferSize(bytes: number): void;
  setSendBufferSize(bytes: number): void;
}

/** werift 0.24 keeps each ICE transport's UDP sockets here (not public API, hence the care). */
interface WithSockets {
  iceTransports?: { connection?: { protocols?: { transport?: { socket?: Partial<UdpSocketLike> } }[] } }[];
}

/**
 * Runs `tune` on every UDP socket `pc` has gathered so far (they exist once `setLocalDescription`
 * resolved). Reaches into werift internals (`iceTransports[].connection.protocols[].transport.socket`):
 * when they are not there, nothing happens. A socket `tune` throws on (not bound yet, closed
 * meanwhile) is skipped. Returns how many sockets were tuned.
 */
export function tuneWeriftSockets(pc: RTCPeerConnection, tune: (socket: Partial<UdpSocketLike>) => boolean): number {
  let tuned = 0;
  for (const transport of (pc as unknown as WithSockets).iceTransports ?? []) {
    for (const protocol of transport.connection?.protocols ?? []) {
      const socket = protocol.transport?.socket;
      if (!socket) continue;
      try {
        if (tune(socket)) tuned++;
      } catch {
        // not bound yet, or closed meanwhile: the kernel default stays
      }
    }
  }
  return tuned;
}
