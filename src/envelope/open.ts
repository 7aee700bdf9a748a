import {
  ENVELOPE_VERSION,
  type Envelope,
  type EnvelopeHeader,
  type WrappedKey,
} from '../../protocol/v1/envelope.js';
import { type Body, Plaintext } from '../../protocol/v1/payload.js';
import { HUB_OFFICE_ID, officeOfDevice } from '../../protocol/v1/primitives.js';
import type { Certificate } from '../crypto/certificate.js';
import { backend } from '../crypto/current.js';
import type { DeviceKeys } from '../crypto/keys.js';
import { rejectOtherVersions } from '../crypto/signed.js';
import { fromBase64Url, fromUtf8, ready, sodium } from '../crypto/sodium.js';
import type { Directory } from '../directory/directory.js';
import { LiaisonError } from '../errors.js';
import { headerBytes, signatureInput } from './layout.js';
import { isEnvelope, parseEnvelope } from './parse.js';
import { matchesCommitment, wrapContentKey } from './wrap.js';

/** How far in the future an envelope's creation time may lie (clocks drift). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface VerifiedEnvelope {
  readonly envelope: Envelope;
  readonly sender: Certificate;
  /** The canonical header bytes, kept for decryption. */
  readonly headerBytes: Uint8Array;
  /** The nonce and ciphertext as decoded for the signature, kept so they are decoded once. */
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
  /** The wrapped keys for the hub, with the hub certificate each was wrapped for. */
  readonly hubKeys: readonly { entry: WrappedKey; certificate: Certificate }[];
  /** The sender sealed against a newer directory than the reader's: the reader should refresh. */
  readonly senderAhead: boolean;
}

/** What the reader knows about how the envelope reached it. */
export interface Arrival {
  /**
   * When the gateway accepted the envelope (ms): a sender key revoked from a later time still
   * vouches for it (PROTOCOL.md §5.2, _Revocation_). Without it, any revocation counts.
   */
  readonly acceptedAt?: number;
}

/**
 * What a reader may take from the gateway's acceptance time of `input`: it only when it can be
 * true (the gateway refuses an envelope created further than the clock skew from its clock, and
 * nothing is accepted after it reaches the reader at `now`), else nothing, so that any revocation
 * of the sender counts.
 */
export function plausibleArrival(input: unknown, acceptedAt: number, now = Date.now()): Arrival {
  const createdAt = (input as { header?: { createdAt?: unknown } } | null)?.header?.createdAt;
  const fits =
    typeof createdAt === 'number' &&
    Math.abs(acceptedAt - createdAt) <= MAX_CLOCK_SKEW_MS &&
    acceptedAt <= now + MAX_CLOCK_SKEW_MS;
  return fits ? { acceptedAt } : {};
}

/** What a reader needs for the prekeys an envelope was sealed to (PROTOCOL.md §5.6). */
export interface PrekeyAccess {
  /** Opens a box sealed to one of this device's own prekeys (its `PrekeyStore`). */
  readonly own?: { openSealed(prekeyId: string, sealed: Uint8Array): Uint8Array };
  /**
   * The public key of another device's prekey, verified under its certificate: the hub's, whose
   * wrap every reader rebuilds. Undefined when it is not known.
   */
  readonly publicKey?: (
    deviceId: string,
    keyId: string,
    prekeyId: string,
  ) => Uint8Array | undefined;
}

export interface OpenedEnvelope {
  readonly header: EnvelopeHeader;
  readonly sender: Certificate;
  readonly body: Body;
  /** The sender sealed against a newer directory than the reader's: the reader should refresh. */
  readonly senderAhead: boolean;
}

/**
 * Checks everything about an envelope that needs no private key: its shape, that the sender's
 * key is certified by the pinned authority and usable at the envelope's creation time, that the
 * sender may write to the named offices, the signature over header, nonce, ciphertext and wrapped
 * keys, that keys are wrapped only for the addressed offices, the hub and the sender's own office, and
 * that the hub is among the recipients. The hub and recipients call this; so may anyone.
 */
export async function verifyEnvelope(
  input: unknown,
  directory: Directory,
  now: number = Date.now(),
  arrival: Arrival = {},
): Promise<VerifiedEnvelope> {
  await ready;
  rejectOtherVersions((input as { header?: unknown } | null)?.header, ENVELOPE_VERSION);
  const envelope = parseEnvelope(input);
  const { header } = envelope;
  if (header.createdAt > now + MAX_CLOCK_SKEW_MS) {
    throw new LiaisonError('ENVELOPE_INVALID', 'envelope was created in the future');
  }

  const sender = directory.usableKey(
    header.sender.deviceId,
    header.sender.keyId,
    header.createdAt,
    arrival.acceptedAt,
  );
  if (sender.role === 'analyst') throw new LiaisonError('FORBIDDEN', 'analysts do not send');
  for (const office of header.to) {
    // Offices write along links (as they stood when the envelope was made); the hub to any office.
    const allowed =
      sender.role === 'hub'
        ? directory.office(office) !== undefined
        : directory.isLinked(sender.officeId, office, header.createdAt);
    if (!allowed)
      throw new LiaisonError('NOT_LINKED', undefined, { from: sender.officeId, to: office });
  }
  // Content keys go only to the named offices, the hub, and the sender's own office (its other
  // devices keep a copy of what the office sent).
  const readers = new Set([...header.to, HUB_OFFICE_ID, sender.officeId]);
  const stray = envelope.recipients.find((r) => !readers.has(officeOfDevice(r.deviceId)));
  if (stray) {
    throw new LiaisonError('RECIPIENTS_MISMATCH', 'a key is wrapped for an office not addressed', {
      deviceId: stray.deviceId,
    });
  }

  const ad = headerBytes(header);
  const nonce = fromBase64Url(envelope.nonce);
  const ciphertext = fromBase64Url(envelope.ciphertext);
  const signature = fromBase64Url(envelope.signature);
  const signed = signatureInput(ad, nonce, ciphertext, envelope.recipients);
  if (!backend().verify(signature, signed, sender.signingPublicKey)) {
    throw new LiaisonError('SIGNATURE_INVALID');
  }
  const senderAhead = checkSameDirectory(header, directory);

  const hubKeys = envelope.recipients.flatMap((r) => {
    const certificate = directory.hubKeyAt(r.deviceId, r.keyId, header.createdAt);
    return certificate ? [{ entry: r, certificate }] : [];
  });
  if (hubKeys.length === 0) throw new LiaisonError('HUB_NOT_RECIPIENT');
  return { envelope, sender, headerBytes: ad, nonce, ciphertext, hubKeys, senderAhead };
}

/**
 * The sender signed the directory head it sealed against. Where the reader's directory reaches
 * that version, both must hold the same statement there; otherwise one of them was served a
 * forked log (DIRECTORY_FORK, nobody's fault the sender could help). Returns whether the sender
 * is ahead of the reader.
 */
function checkSameDirectory(header: EnvelopeHeader, directory: Directory): boolean {
  const named = header.directory;
  if (named.version > directory.version) return true;
  if (directory.positionAt(named.version)?.hash !== named.hash) {
    throw new LiaisonError('DIRECTORY_FORK', 'the sender sealed against a different directory', {
      version: named.version,
    });
  }
  return false;
}

/**
 * Verifies an envelope (see verifyEnvelope), then unwraps the content key with the recipient's
 * private key, decrypts with the header as associated data, and checks that the sender and id
 * inside the plaintext are those of the header. Every failure is a LiaisonError with a code;
 * nothing is logged.
 *
 * `recipient` is one key pair, or a device's keyring: its current key and the past ones it still
 * keeps, so a backlog sealed before a rotation still opens. An envelope wrapped for a key of this
 * device that the ring does not hold is OWN_KEY_MISSING: the reader's own loss, never the
 * sender's fault, so a client reports it and does not acknowledge it.
 */
export async function openEnvelope(
  input: unknown,
  recipient: DeviceKeys | readonly DeviceKeys[],
  directory: Directory,
  now: number = Date.now(),
  arrival: Arrival = {},
  prekeys: PrekeyAccess = {},
): Promise<OpenedEnvelope> {
  return openVerifiedEnvelope(
    await verifyEnvelope(input, directory, now, arrival),
    recipient,
    prekeys,
  );
}

/** The recipient's part of openEnvelope (steps 9–13), for an envelope verifyEnvelope passed. */
export async function openVerifiedEnvelope(
  verified: VerifiedEnvelope,
  recipient: DeviceKeys | readonly DeviceKeys[],
  prekeys: PrekeyAccess = {},
): Promise<OpenedEnvelope> {
  const { envelope, sender } = verified;
  const { header } = envelope;

  const ring = Array.isArray(recipient) ? recipient : [recipient as DeviceKeys];
  const deviceId = ring[0]?.deviceId;
  if (deviceId === undefined || ring.some((k) => k.deviceId !== deviceId)) {
    throw new TypeError('a keyring holds keys of one device');
  }
  const ownOffice = officeOfDevice(deviceId);
  const addressed =
    ownOffice === HUB_OFFICE_ID || ownOffice === sender.officeId || header.to.includes(ownOffice);
  const mine = envelope.recipients.filter((r) => r.deviceId === deviceId);
  if (mine.length === 0 || !addressed) throw new LiaisonError('NOT_A_RECIPIENT');
  const match = ring
    .map((keys) => ({ keys, entry: mine.find((r) => r.keyId === keys.keyId) }))
    .find((m) => m.entry !== undefined);
  if (!match?.entry) {
    throw new LiaisonError('OWN_KEY_MISSING', undefined, {
      keyIds: mine.map((r) => r.keyId),
    });
  }
  const { keys: own, entry } = match;

  return openWithContentKey(verified, unwrap(entry, own, prekeys), ownOffice, prekeys);
}

/**
 * Opens, as CARICC, an envelope whose hub wrap is sealed to a hub prekey the hub no longer holds,
 * with that prekey's private half unsealed from the archive (§5.6): verified as openEnvelope
 * does, so an archived entry is as sound as a current one. Run where the archive key is, never
 * on the hub host.
 */
export async function openArchivedEnvelope(
  input: unknown,
  directory: Directory,
  prekey: { readonly prekeyId: string; readonly secretKey: Uint8Array },
  now: number,
  arrival: Arrival = {},
): Promise<OpenedEnvelope> {
  const verified = await verifyEnvelope(input, directory, now, arrival);
  const entry = verified.hubKeys.find((k) => k.entry.prekeyId === prekey.prekeyId)?.entry;
  if (!entry) throw new LiaisonError('NOT_A_RECIPIENT', 'no hub wrap is sealed to that prekey');
  let contentKey: Uint8Array;
  try {
    contentKey = backend().sealOpen(
      fromBase64Url(entry.wrappedKey),
      sodium.crypto_scalarmult_base(prekey.secretKey),
      prekey.secretKey,
    );
  } catch {
    throw new LiaisonError('DECRYPT_FAILED');
  }
  return openWithContentKey(verified, contentKey, HUB_OFFICE_ID, {});
}

/** Steps 10a–13 with the content key unwrapped (and wiped here once used). */
function openWithContentKey(
  verified: VerifiedEnvelope,
  contentKey: Uint8Array,
  ownOffice: string,
  prekeys: PrekeyAccess,
): OpenedEnvelope {
  const { envelope, sender } = verified;
  const { header } = envelope;
  let plaintextBytes: Uint8Array;
  try {
    if (!matchesCommitment(header.id, contentKey, fromBase64Url(header.keyCommitment))) {
      throw new LiaisonError('KEY_COMMITMENT_MISMATCH');
    }
    // Only what CARICC can read may be read: a recipient rebuilds the hub's wrap from its own key.
    if (ownOffice !== HUB_OFFICE_ID) {
      for (const { entry: hubEntry, certificate } of verified.hubKeys) {
        const expected = wrapContentKey(
          contentKey,
          header.id,
          hubTarget(hubEntry, certificate, prekeys),
        );
        if (!backend().equal(expected, fromBase64Url(hubEntry.wrappedKey))) {
          throw new LiaisonError('HUB_KEY_MISMATCH', undefined, { deviceId: hubEntry.deviceId });
        }
      }
    }
    plaintextBytes = decrypt(verified, contentKey);
  } finally {
    backend().wipe(contentKey);
  }

  const plaintext = parsePlaintext(plaintextBytes);
  if (plaintext.sender !== header.sender.deviceId || plaintext.envelopeId !== header.id) {
    throw new LiaisonError('INNER_SENDER_MISMATCH');
  }
  const { body } = plaintext;
  if (
    body.type !== header.kind ||
    (body.type === 'alert' && body.precedence !== header.precedence)
  ) {
    throw new LiaisonError('PAYLOAD_INVALID', 'payload kind or precedence differs from the header');
  }
  return { header, sender, body, senderAhead: verified.senderAhead };
}

/**
 * The sender's certificate when the envelope's signature verifies under the key its header
 * names, whatever else is wrong with it (revoked, not linked, badly wrapped): who can be held to
 * what it signed. Undefined when the envelope does not parse or its signature does not verify.
 */
export async function provenSender(
  input: unknown,
  directory: Directory,
): Promise<Certificate | undefined> {
  await ready;
  if (!isEnvelope(input)) return undefined;
  const envelope = input;
  const { deviceId, keyId } = envelope.header.sender;
  const certificate = directory.certificateOf(deviceId, keyId);
  if (!certificate) return undefined;
  const signed = signatureInput(
    headerBytes(envelope.header),
    fromBase64Url(envelope.nonce),
    fromBase64Url(envelope.ciphertext),
    envelope.recipients,
  );
  const signature = fromBase64Url(envelope.signature);
  return backend().verify(signature, signed, certificate.signingPublicKey)
    ? certificate
    : undefined;
}

/** The content key from this device's wrap: sealed to one of its prekeys, or to its own key. */
function unwrap(entry: WrappedKey, own: DeviceKeys, prekeys: PrekeyAccess): Uint8Array {
  const sealed = fromBase64Url(entry.wrappedKey);
  if (entry.prekeyId !== undefined) {
    if (!prekeys.own) {
      throw new LiaisonError('OWN_KEY_MISSING', 'sealed to a prekey and no prekeys are held', {
        keyIds: [entry.prekeyId],
      });
    }
    return prekeys.own.openSealed(entry.prekeyId, sealed);
  }
  try {
    return backend().sealOpen(sealed, own.encryptionPublicKey, own.encryptionSecretKey);
  } catch {
    throw new LiaisonError('DECRYPT_FAILED');
  }
}

/** What the hub's wrap was sealed to, to rebuild it: its prekey's public key, or its own key. */
function hubTarget(entry: WrappedKey, certificate: Certificate, prekeys: PrekeyAccess) {
  if (entry.prekeyId === undefined) return certificate;
  const publicKey = prekeys.publicKey?.(entry.deviceId, entry.keyId, entry.prekeyId);
  if (!publicKey) {
    throw new LiaisonError('PREKEY_MISSING', 'the hub prekey this envelope names is not known', {
      deviceId: entry.deviceId,
      prekeyId: entry.prekeyId,
    });
  }
  return { ...entry, encryptionPublicKey: publicKey };
}

function decrypt(verified: VerifiedEnvelope, contentKey: Uint8Array): Uint8Array {
  try {
    return backend().decrypt(verified.ciphertext, verified.headerBytes, verified.nonce, contentKey);
  } catch {
    throw new LiaisonError('DECRYPT_FAILED');
  }
}

function parsePlaintext(bytes: Uint8Array): Plaintext {
  let json: unknown;
  try {
    json = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new LiaisonError('PAYLOAD_INVALID', 'plaintext is not UTF-8 JSON');
  }
  const parsed = Plaintext.safeParse(json);
  if (!parsed.success) throw new LiaisonError('PAYLOAD_INVALID');
  return parsed.data;
}
