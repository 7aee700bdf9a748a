import type { EnvelopeHeader, WrappedKey } from '../../protocol/v1/envelope.js';
import { encode } from '../crypto/encoding.js';
import { fromBase64Url } from '../crypto/sodium.js';

/**
 * The header's canonical bytes: the AEAD associated data, and the first signed field
 * (PROTOCOL.md §Envelope byte layout). An absent precedence encodes as the empty string.
 */
export function headerBytes(header: EnvelopeHeader): Uint8Array {
  return encode([
    'liaison/v4/header',
    header.v,
    header.id,
    header.kind,
    header.precedence ?? '',
    header.sender.deviceId,
    header.sender.keyId,
    header.to,
    header.createdAt,
    header.counter,
    header.directory.version,
    fromBase64Url(header.directory.hash),
    fromBase64Url(header.keyCommitment),
  ]);
}

/**
 * The bytes the sender signs: header, nonce, ciphertext and every wrapped key, in order, each
 * with the prekey it was sealed to (the empty string for the certified key).
 */
export function signatureInput(
  header: Uint8Array,
  nonce: Uint8Array,
  ciphertext: Uint8Array,
  recipients: readonly WrappedKey[],
): Uint8Array {
  return encode([
    'liaison/v4/envelope',
    header,
    nonce,
    ciphertext,
    recipients.map((r) => [r.deviceId, r.keyId, r.prekeyId ?? '', fromBase64Url(r.wrappedKey)]),
  ]);
}
