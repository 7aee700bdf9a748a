import type { Socket } from 'socket.io';

/**
 * Most bytes one socket may have waiting to be written (engine.io's write buffer plus what the
 * WebSocket has not handed to the kernel) before it is cut. Well above one fetch page
 * (MAX_PAGE_BYTES) and a burst of pushes; far below what a stalled reader would otherwise pile up.
 */
export const MAX_OUTBOUND_BYTES = 8 * 1024 * 1024;

/** The WebSocket close code and reason a slow consumer is cut with (4000-4999: application). */
export const SLOW_CONSUMER_CLOSE = { code: 4008, reason: 'SLOW_CONSUMER' } as const;

interface EngineInternals {
  writeBuffer?: { data?: unknown }[];
  transport?: {
    socket?: {
      _socket?: {
        cork(): void;
        uncork(): void;
        writableCorked?: number;
        destroyed?: boolean;
      } | null;
      bufferedAmount?: number;
      close?(code: number, reason: string): void;
      terminate?(): void;
    };
  };
  close?(discard: boolean): void;
}

const sizeOf = (data: unknown) =>
  typeof data === 'string'
    ? data.length
    : data instanceof ArrayBuffer || ArrayBuffer.isView(data)
      ? data.byteLength
      : 0;

/**
 * Bytes written to this socket that its reader has not taken yet, as far as this process holds
 * them. Counts engine.io's write buffer (bounded by the cut, so the walk stays short).
 */
export function outboundBytes(socket: Socket): number {
  const conn = socket.conn as unknown as EngineInternals;
  let bytes = conn.transport?.socket?.bufferedAmount ?? 0;
  for (const packet of conn.writeBuffer ?? []) bytes += sizeOf(packet.data);
  return bytes;
}

/**
 * Cuts a reader that does not keep up: the buffered pushes are dropped (they stay in its inbox,
 * where it fetches them after reconnecting), the WebSocket is closed with SLOW_CONSUMER and torn
 * down at once, since a stalled reader would never read the close frame either.
 */
export function cutSlowConsumer(socket: Socket): void {
  const conn = socket.conn as unknown as EngineInternals;
  const ws = conn.transport?.socket;
  conn.writeBuffer = [];
  ws?.close?.(SLOW_CONSUMER_CLOSE.code, SLOW_CONSUMER_CLOSE.reason);
  ws?.terminate?.();
  conn.close?.(true);
}

/**
 * Holds this socket's TCP writes until the current tick ends, so the pushes one tick makes (the
 * deliveries in one read from Redis, the statuses of one acknowledgement) leave in one write
 * instead of a system call per WebSocket frame. Nothing waits longer than the tick.
 */
export function corkForThisTick(socket: Socket): void {
  const tcp = (socket.conn as unknown as EngineInternals).transport?.socket?._socket;
  if (!tcp || tcp.destroyed || tcp.writableCorked) return;
  tcp.cork();
  process.nextTick(() => tcp.uncork());
}

/**
 * Writes a Socket.IO packet that is already encoded (what `socket.emit` would have made of the
 * same event) to the socket, as socket.io's own broadcasts do with pre-encoded packets.
 */
export function writePacket(socket: Socket, packet: string): void {
  if (socket.conn.readyState !== 'open') return;
  socket.conn.write(packet, { compress: true });
}
