import type { Certificate } from '../crypto/certificate.js';

/** Key bytes are copied into slabs of this size: one buffer for 1,024 devices' keys. */
const SLAB_BYTES = 64 * 1024;

/**
 * Certificates as a directory keeps them for as long as it runs: every object of one shape, the
 * few strings all certificates repeat (type, role, country, issuer) shared, the office id taken
 * from the office's record, and the public keys as views into shared slabs rather than a buffer
 * each (a 32-byte key in its own buffer costs about 360 bytes). Equal to what was verified, field
 * for field; the directory of a 100,000-device world holds 100,000 of them.
 *
 * @example
 * const kept = new KeptCertificates();
 * const certificate = kept.keep(verifyCertificate(signed, authority), office.officeId);
 */
export class KeptCertificates {
  #slab = new Uint8Array(SLAB_BYTES);
  #used = 0;
  readonly #shared = new Map<string, string>();

  /** A copy of `cert` that shares what it can; `officeId` is the same text as `cert.officeId`. */
  keep(cert: Certificate, officeId: string): Certificate {
    if (officeId !== cert.officeId) throw new TypeError('the office id is not the certificate’s');
    return {
      v: cert.v,
      type: this.#share(cert.type),
      role: this.#share(cert.role),
      officeId,
      country: this.#share(cert.country),
      deviceId: cert.deviceId,
      keyId: cert.keyId,
      signingKey: cert.signingKey,
      encryptionKey: cert.encryptionKey,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      issuer: this.#share(cert.issuer),
      signingPublicKey: this.#copy(cert.signingPublicKey),
      encryptionPublicKey: this.#copy(cert.encryptionPublicKey),
    };
  }

  /** One text for values every certificate repeats (a handful of roles, countries, issuers). */
  #share<T extends string>(text: T): T {
    const known = this.#shared.get(text);
    if (known !== undefined) return known as T;
    this.#shared.set(text, text);
    return text;
  }

  #copy(bytes: Uint8Array): Uint8Array {
    if (this.#used + bytes.length > this.#slab.length) {
      this.#slab = new Uint8Array(Math.max(SLAB_BYTES, bytes.length));
      this.#used = 0;
    }
    const view = this.#slab.subarray(this.#used, this.#used + bytes.length);
    view.set(bytes);
    this.#used += bytes.length;
    return view;
  }
}
