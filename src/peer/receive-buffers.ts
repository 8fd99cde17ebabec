import type { RTCPeerConnection } from 'werift';
import { tuneWeriftSockets } from '../util/werift-sockets.js';

/**
 * Kernel receive buffer asked for on every UDP socket of a peer connection: 4 MiB, about 20 s of
 * a 1.5 Mbit/s camera. The kernel's default (~208 KiB) holds about one second of such a stream
 * plus its keyframe, so any pause of the event loop or of this process on a busy machine (GC, a
 * burst of DTLS handshakes, another process on the same cores) overflowed it and the kernel dropped
 * RTP before werift saw it: the recorder's losses at 20 streams on a loaded 2-core machine were all
 * such drops. Linux caps the request at `net.core.rmem_max` (raise it with sysctl to get the
 * whole 4 MiB); memory is only used while packets wait.
 */
export const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Sets the receive buffer of every UDP socket `pc` has gathered so far (call after
 * `setLocalDescription`, which resolves once gathering is done). Returns how many sockets it
 * changed; 0 when werift's internals differ from what it knows, and nothing else happens then.
 */
export function raiseReceiveBuffers(pc: RTCPeerConnection, bytes = RECEIVE_BUFFER_BYTES): number {
  return tuneWeriftSockets(pc, (socket) => {
    if (typeof socket.setRecvBufferSize !== 'function') return false;
    socket.setRecvBufferSize(bytes);
    return true;
  });
}
