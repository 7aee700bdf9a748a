import type { Certificate } from '../crypto/certificate.js';
import { toBase64Url } from '../crypto/sodium.js';

/** Key bytes are copied into slabs of this size: one buffer for 1,024 devices' keys. */
const SLAB_BYTES = 64 * 1024;
/** An Ed25519 and an X25519 public key. */
const KEY_BYTES = 32;

/**
 * A certificate as a directory keeps it: the payload's fields, with the two public keys held
 * once, as bytes, side by side in a shared slab (`publicKeys`); the keys' base64url texts and
 * their separate views are made when read. Each view or text kept would cost about 100 bytes,
 * and a 100,000-device directory holds 100,000 certificates.
 */
class KeptCertificate implements Certificate {
  readonly v: Certificate['v'];
  readonly type: Certificate['type'];
  readonly role: Certificate['role'];
  readonly officeId: string;
  readonly country: Certificate['country'];
  readonly deviceId: string;
  readonly keyId: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly issuer: string;
  /** The signing key's 32 bytes, then the encryption key's. */
  readonly publicKeys: Uint8Array;

  constructor(
    cert: Certificate,
    officeId: string,
    share: (text: string) => string,
    keys: Uint8Array,
  ) {
    this.v = cert.v;
    this.type = share(cert.type) as Certificate['type'];
    this.role = share(cert.role) as Certificate['role'];
    this.officeId = officeId;
    this.country = share(cert.country) as Certificate['country'];
    this.deviceId = cert.deviceId;
    this.keyId = cert.keyId;
    this.notBefore = cert.notBefore;
    this.notAfter = cert.notAfter;
    this.issuer = share(cert.issuer);
    this.publicKeys = keys;
  }

  get signingPublicKey(): Uint8Array {
    return this.publicKeys.subarray(0, KEY_BYTES);
  }

  get encryptionPublicKey(): Uint8Array {
    return this.publicKeys.subarray(KEY_BYTES);
  }

  get signingKey(): string {
    return toBase64Url(this.signingPublicKey);
  }

  get encryptionKey(): string {
    return toBase64Url(this.encryptionPublicKey);
  }
}

/**
 * Certificates as a directory keeps them for as long as it runs (see KeptCertificate): the few
 * strings all certificates repeat (type, role, country, issuer) shared, the office id taken from
 * the office's record. Equal to what was verified, field for field.
 *
 * @example
 * const kept = new KeptCertificates();
 * const certificate = kept.keep(verifyCertificate(signed, authority), office.officeId);
 */
export class KeptCertificates {
  #slab = new Uint8Array(SLAB_BYTES);
  #used = 0;
  readonly #shared = new Map<string, string>();
  readonly #share = (text: string): string => {
    const known = this.#shared.get(text);
    if (known !== undefined) return known;
    this.#shared.set(text, text);
    return text;
  };

  /** A copy of `cert` that shares what it can; `officeId` is the same text as `cert.officeId`. */
  keep(cert: Certificate, officeId: string): Certificate {
    if (officeId !== cert.officeId) throw new TypeError('the office id is not the certificate’s');
    const { signingPublicKey, encryptionPublicKey } = cert;
    if (signingPublicKey.length !== KEY_BYTES || encryptionPublicKey.length !== KEY_BYTES) {
      throw new TypeError('a certificate’s public keys are 32 bytes each');
    }
    if (this.#used + 2 * KEY_BYTES > this.#slab.length) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#used = 0;
    }
    const keys = this.#slab.subarray(this.#used, this.#used + 2 * KEY_BYTES);
    keys.set(signingPublicKey);
    keys.set(encryptionPublicKey, KEY_BYTES);
    this.#used += 2 * KEY_BYTES;
    return new KeptCertificate(cert, officeId, this.#share, keys);
  }
}
