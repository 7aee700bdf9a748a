/**
 * Liaison's SDK, safe for browsers and Node: connect an office device (`LiaisonClient`) or a
 * CARICC analyst (`AnalystClient`), pin the authority, load a device key from its file's
 * contents, compare safety numbers, and the wire contract (zod schemas, types, error codes).
 * Node programs that read key files from disk import `liaison/node` instead, which adds that.
 *
 * @example
 * import { LiaisonClient, parseDeviceKey, pinAuthority } from 'liaison';
 * const { keys } = await parseDeviceKey(JSON.parse(keyFileText));
 * const client = new LiaisonClient({ url, audience: 'liaison-gateway', keys, authority: await pinAuthority(pin) });
 */

export { ERROR_CODES, ERRORS, type ErrorCode } from '../protocol/errors.js';
export * from '../protocol/v1/index.js';
export {
  type ChunkReader,
  type OpenedAttachment,
  openAttachment,
  openAttachmentChunks,
} from './attachment/open.js';
export { type ByteSource, type SealedAttachment, sealAttachment } from './attachment/seal.js';
export { sniffType } from './attachment/sniff.js';
export {
  AnalystClient,
  type AnalystEvents,
  type AnalystOptions,
  type Escalation,
  HUB_AUDIENCE,
  type RecordPage,
} from './client/analyst.js';
export type { AttachOptions } from './client/attachments.js';
export {
  type ClientEvents,
  type ClientOptions,
  LiaisonClient,
  type Message,
} from './client/client.js';
export { syncDirectory } from './client/directory.js';
export type { Forwardable, PermissionState } from './client/forwarding.js';
export type { Problem } from './client/socket.js';
export { type Certificate, type PinnedAuthority, pinAuthority } from './crypto/certificate.js';
export { type DeviceKeys, fingerprint } from './crypto/keys.js';
export { createClientToken, type TokenOptions } from './crypto/token.js';
export { Directory, type Office, type RecipientKey } from './directory/directory.js';
export { acceptHead, type KnownHead } from './directory/head.js';
export { type OpenedEnvelope, openEnvelope, verifyEnvelope } from './envelope/open.js';
export { type SealRequest, sealEnvelope } from './envelope/seal.js';
export {
  counterStream,
  type MissingRange,
  type Observation,
  type SequenceState,
  Sequences,
} from './envelope/sequence.js';
export { isLiaisonError, LiaisonError } from './errors.js';
export { type DeviceIdentity, DeviceKeyFile, parseDeviceKey } from './keystore/device-key.js';
