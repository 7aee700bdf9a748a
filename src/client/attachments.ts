import type { Socket } from 'socket.io-client';
import type { z } from 'zod';
import {
  ATTACHMENT_CHUNK_BYTES,
  type AttachmentRef,
  BlobGetAck,
  BlobPutAck,
  BlobSealAck,
  BlobStatusAck,
} from '../../protocol/v1/blob.js';
import { type ByteSource, sealAttachment } from '../attachment/seal.js';
import { toBase64Url } from '../crypto/sodium.js';
import { isLiaisonError, LiaisonError } from '../errors.js';
import { request } from './socket.js';

/** How the attachment code reaches the gateway: the live socket, and a wait for one. */
export interface BlobLink {
  /** The connected socket, or undefined while there is none. */
  socket(): Socket | undefined;
  /** Resolves once connected again (rejects when the client stopped). */
  connected(): Promise<void>;
}

export interface AttachOptions {
  /** The file name shown to the recipient. */
  readonly name: string;
  /** The sender's word for the media type (recipients sniff the content regardless). */
  readonly declaredType?: string;
  /** A small preview the app made (at most 256 KiB), sent as its own one-chunk blob. */
  readonly thumbnail?: Uint8Array;
  /** Called after each chunk is stored: chunks stored so far. */
  readonly progress?: (stored: number) => void;
}

/** Refusals that stay refusals however often they are retried. */
const FINAL = new Set([
  'QUOTA_EXCEEDED',
  'PAYLOAD_TOO_LARGE',
  'BLOB_INVALID',
  'BLOB_NOT_FOUND',
  'VALIDATION_FAILED',
  'FORBIDDEN',
]);

/**
 * One request over the link: rejected as UNAVAILABLE as soon as the connection is cut (not only
 * after the ack timeout), so an upload resumes at once on the next connection.
 */
function ask<S extends z.ZodType>(socket: Socket, event: string, payload: unknown, ack: S) {
  return new Promise<Extract<z.infer<S>, { ok: true }>>((resolve, reject) => {
    const cut = () => reject(new LiaisonError('UNAVAILABLE', 'the connection was cut'));
    socket.once('disconnect', cut);
    request(socket, event, payload, ack)
      .then(resolve, reject)
      .finally(() => socket.off('disconnect', cut));
  });
}

/**
 * A pause before trying again: 0.2 s doubling to 5 s while the gateway keeps failing (Redis
 * away), and what the gateway says (`retryAfterMs`) when it says it.
 */
function pause(error: unknown, failures: number): Promise<void> {
  const told = isLiaisonError(error) ? Number(error.details?.retryAfterMs) : Number.NaN;
  const ms = Number.isFinite(told)
    ? Math.min(told, 30_000)
    : isLiaisonError(error, 'RATE_LIMITED')
      ? 1_000
      : Math.min(5_000, 200 * 2 ** failures);
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Runs `attempt` until it succeeds or is refused for good, waiting out cut connections (a
 * timeout, a cut, a gateway shutting down, Redis briefly away are all tried again; stopping the
 * client ends the wait with UNAVAILABLE). `attempt` learns whether an earlier try may have done
 * its work with the answer lost.
 */
async function persistent<T>(
  link: BlobLink,
  attempt: (socket: Socket, retry: boolean) => Promise<T>,
): Promise<T> {
  let failures = 0;
  for (let retry = false; ; retry = true) {
    const socket = link.socket();
    if (!socket?.connected) {
      await link.connected();
      failures = 0;
      continue;
    }
    try {
      return await attempt(socket, retry);
    } catch (error) {
      if (isLiaisonError(error) && FINAL.has(error.code)) throw error;
      await pause(error, failures++);
    }
  }
}

/** Chunks of the blob the gateway holds (0 for a blob it has not started). */
async function received(socket: Socket, blobId: string): Promise<number> {
  try {
    return (await ask(socket, 'blob:status', { blobId }, BlobStatusAck)).received;
  } catch (error) {
    if (isLiaisonError(error, 'BLOB_NOT_FOUND')) return 0;
    throw error;
  }
}

/**
 * Uploads one encrypted blob, chunk by chunk, in order; a cut connection is waited out and the
 * upload resumes where the gateway's `blob:status` says it stopped (PROTOCOL.md §8.2). Only the
 * chunk being sent is held: a put whose ack was lost is found stored by the status.
 */
async function uploadBlob(
  link: BlobLink,
  blobId: string,
  chunks: AsyncIterable<Uint8Array>,
  progress?: (stored: number) => void,
): Promise<void> {
  let index = 0;
  for await (const chunk of chunks) {
    await persistent(link, async (socket, retry) => {
      if (retry) {
        const stored = await received(socket, blobId);
        if (stored > index) return;
        if (stored < index) {
          throw new LiaisonError('BLOB_INVALID', 'the gateway lost chunks of this upload', {
            received: stored,
          });
        }
      }
      await ask(socket, 'blob:put', { blobId, index, chunk }, BlobPutAck);
    });
    index += 1;
    progress?.(index);
  }
}

/**
 * Encrypts a file on this device and uploads it (and its thumbnail, if given); resolves with the
 * reference to put in a chat line's or an alert's `attachments`. The file is read once and never
 * held whole in memory: one 256 KiB chunk at a time.
 */
export async function attach(
  link: BlobLink,
  source: ByteSource,
  options: AttachOptions,
): Promise<AttachmentRef> {
  const sealer = await sealAttachment(source);
  const blobId = crypto.randomUUID();
  await uploadBlob(link, blobId, sealer.chunks, options.progress);
  const sealed = sealer.result();
  await seal(link, blobId, sealed.chunks, sealed.stored, toBase64Url(sealed.hash));
  let thumbnail: AttachmentRef['thumbnail'];
  if (options.thumbnail) {
    if (options.thumbnail.byteLength > ATTACHMENT_CHUNK_BYTES) {
      throw new TypeError(`a thumbnail is at most ${ATTACHMENT_CHUNK_BYTES} bytes`);
    }
    const small = await sealAttachment(options.thumbnail, ATTACHMENT_CHUNK_BYTES);
    const thumbId = crypto.randomUUID();
    await uploadBlob(link, thumbId, small.chunks);
    const t = small.result();
    await seal(link, thumbId, t.chunks, t.stored, toBase64Url(t.hash));
    thumbnail = {
      blobId: thumbId,
      size: t.size,
      ...(t.padded !== t.size ? { padded: t.padded } : {}),
      key: toBase64Url(t.key),
      header: toBase64Url(t.header),
      hash: toBase64Url(t.hash),
      chunks: 1,
    };
  }
  return {
    blobId,
    name: options.name,
    size: sealed.size,
    ...(sealed.padded !== sealed.size ? { padded: sealed.padded } : {}),
    ...(options.declaredType ? { declaredType: options.declaredType } : {}),
    key: toBase64Url(sealed.key),
    header: toBase64Url(sealed.header),
    hash: toBase64Url(sealed.hash),
    chunks: sealed.chunks,
    ...(thumbnail ? { thumbnail } : {}),
  };
}

async function seal(link: BlobLink, blobId: string, chunks: number, size: number, hash: string) {
  await persistent(link, async (socket, retry) => {
    // Sealed with the ack lost: the status says so.
    if (retry && (await ask(socket, 'blob:status', { blobId }, BlobStatusAck)).sealed) return;
    await ask(socket, 'blob:seal', { blobId, chunks, size, hash }, BlobSealAck);
  });
}

/** Reads one chunk of a sealed blob over the gateway, waiting out cut connections. */
export function chunkReader(link: BlobLink) {
  return (blobId: string, index: number) =>
    persistent(
      link,
      async (socket) => (await ask(socket, 'blob:get', { blobId, index }, BlobGetAck)).chunk,
    );
}
