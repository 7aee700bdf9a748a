import type { DirectoryPosition, EnvelopeHeader, WrappedKey } from '../../protocol/v1/envelope.js';
import { ENVELOPE_VERSION, Envelope, MAX_ENVELOPE_BYTES } from '../../protocol/v1/envelope.js';
import { type Body, Plaintext } from '../../protocol/v1/payload.js';
import type { DeviceKeys } from '../crypto/keys.js';
import { ready, sodium, toBase64Url, utf8 } from '../crypto/sodium.js';
import { issuesOf, LiaisonError } from '../errors.js';
import { headerBytes, signatureInput } from './layout.js';
import { pad, paddedLength } from './padding.js';
import { keyCommitment, type WrapTarget, wrapContentKey } from './wrap.js';

/**
 * Where the random bytes come from (the content key, then the nonce). Only test vectors replace it;
 * everything else in an envelope follows from those two and the sender's key.
 */
export interface Entropy {
  randomBytes(length: number): Uint8Array;
}

export interface SealRequest {
  readonly sender: DeviceKeys;
  readonly to: readonly string[];
  readonly body: Body;
  /**
   * Every device key of the recipient offices plus the hub's (Directory.recipientKeys), each with
   * its prekey picked for `createdAt` (`pickPrekey`, PROTOCOL.md §5.6) where it has one.
   */
  readonly recipients: readonly WrapTarget[];
  /** This sender key's next counter for these offices (`Sequences.next`; §7.6). */
  readonly counter: number;
  /** The directory head the sender sealed against (`Directory.head`). */
  readonly directory: DirectoryPosition;
  readonly id?: string;
  readonly createdAt?: number;
}

/**
 * Encrypts and signs a message for the recipient devices and the hub.
 *
 * @example
 * const envelope = await sealEnvelope({ sender, to: ['KG-AKZHOL'], body: { type: 'chat', text },
 *   recipients: directory.recipientKeys(['KG-AKZHOL'], Date.now()),
 *   counter: sequences.next(sender, ['KG-AKZHOL']), directory: directory.head });
 */
export async function sealEnvelope(request: SealRequest, entropy?: Entropy): Promise<Envelope> {
  await ready;
  const random = (n: number) => (entropy ? entropy.randomBytes(n) : sodium.randombytes_buf(n));
  const id = request.id ?? crypto.randomUUID();
  const createdAt = request.createdAt ?? Date.now();
  const plaintext: Plaintext = {
    v: 1,
    envelopeId: id,
    sender: request.sender.deviceId,
    body: request.body,
  };
  // Refuse to send what a recipient would refuse to open.
  const checked = Plaintext.safeParse(plaintext);
  if (!checked.success)
    throw new LiaisonError('PAYLOAD_INVALID', undefined, issuesOf(checked.error));

  const contentKey = random(sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  const nonce = random(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const header: EnvelopeHeader = {
    v: ENVELOPE_VERSION,
    id,
    kind: request.body.type,
    ...(request.body.type === 'alert' ? { precedence: request.body.precedence } : {}),
    sender: { deviceId: request.sender.deviceId, keyId: request.sender.keyId },
    to: [...request.to],
    createdAt,
    counter: request.counter,
    directory: { version: request.directory.version, hash: request.directory.hash },
    keyCommitment: toBase64Url(keyCommitment(id, contentKey)),
  };
  const ad = headerBytes(header);
  const json = utf8(JSON.stringify(plaintext));
  // Padded to its bucket; should that not fit the envelope limit, to nothing (a rare giant). Only
  // one of the two is ever sent, so the nonce is used once on the wire.
  let envelope: Envelope | undefined;
  try {
    envelope =
      sealed(request, header, ad, pad(json, paddedLength(json.length)), contentKey, nonce) ??
      sealed(request, header, ad, json, contentKey, nonce);
  } finally {
    sodium.memzero(contentKey);
  }
  if (!envelope) {
    throw new LiaisonError('PAYLOAD_TOO_LARGE', undefined, { limit: MAX_ENVELOPE_BYTES });
  }
  return envelope;
}

/** The signed envelope of `plaintext`, or undefined when it exceeds MAX_ENVELOPE_BYTES. */
function sealed(
  request: SealRequest,
  header: EnvelopeHeader,
  ad: Uint8Array,
  plaintext: Uint8Array,
  contentKey: Uint8Array,
  nonce: Uint8Array,
): Envelope | undefined {
  const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
    plaintext,
    ad,
    null,
    nonce,
    contentKey,
  );
  const recipients: WrappedKey[] = request.recipients.map((r) => ({
    deviceId: r.deviceId,
    keyId: r.keyId,
    ...(r.prekeyId === undefined ? {} : { prekeyId: r.prekeyId }),
    wrappedKey: toBase64Url(wrapContentKey(contentKey, header.id, r)),
  }));
  const signature = sodium.crypto_sign_detached(
    signatureInput(ad, nonce, ciphertext, recipients),
    request.sender.signingSecretKey,
  );
  const envelope: Envelope = {
    header,
    nonce: toBase64Url(nonce),
    ciphertext: toBase64Url(ciphertext),
    recipients,
    signature: toBase64Url(signature),
  };
  const valid = Envelope.safeParse(envelope);
  if (!valid.success) throw new LiaisonError('ENVELOPE_INVALID', undefined, issuesOf(valid.error));
  return utf8(JSON.stringify(envelope)).length > MAX_ENVELOPE_BYTES ? undefined : valid.data;
}
