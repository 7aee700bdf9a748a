import type { Role } from '../../protocol/v1/certificate.js';
import { EnrolmentRequest, EnrolmentRequestPayload } from '../../protocol/v1/enrolment.js';
import { officeOfDevice } from '../../protocol/v1/primitives.js';
import { type DeviceKeys, deviceKeyId, generateDeviceKeys } from '../crypto/keys.js';
import { openSigned, signObject } from '../crypto/signed.js';
import { fromBase64Url, toBase64Url } from '../crypto/sodium.js';
import { LiaisonError } from '../errors.js';
import { type DeviceSeeds, newSeed } from './keyfile.js';

/**
 * A device's own keys and its signed enrolment request (PROTOCOL.md §5.5). The seeds stay on the
 * device (the caller writes them to the sealed key file); the request holds only public keys.
 */
export async function makeEnrolmentRequest(
  deviceId: string,
  role: Role,
  validityDays: number,
  now = Date.now(),
): Promise<{ keys: DeviceKeys; seeds: DeviceSeeds; request: EnrolmentRequest }> {
  const seeds = { signing: await newSeed(), encryption: await newSeed() };
  const keys = await generateDeviceKeys(deviceId, seeds);
  const payload: EnrolmentRequestPayload = EnrolmentRequestPayload.parse({
    v: 1,
    type: 'liaison.enrolment-request',
    officeId: officeOfDevice(deviceId),
    deviceId,
    role,
    keyId: keys.keyId,
    signingKey: toBase64Url(keys.signingPublicKey),
    encryptionKey: toBase64Url(keys.encryptionPublicKey),
    validityDays,
    createdAt: now,
  });
  const signed = signObject('liaison/v1/enrolment-request', payload, keys.signingSecretKey);
  return { keys, seeds, request: { v: 1, type: 'liaison.enrolment-request', request: signed } };
}

export interface VerifiedEnrolmentRequest extends EnrolmentRequestPayload {
  readonly signingPublicKey: Uint8Array;
  readonly encryptionPublicKey: Uint8Array;
}

/**
 * Checks a request as the authority must before certifying it: the schema, the signature by the
 * signing key it names (proof of possession), the key id over both public keys, and that the
 * device belongs to the office it names. Any failure is ENROLMENT_REQUEST_INVALID.
 */
export function verifyEnrolmentRequest(file: unknown): VerifiedEnrolmentRequest {
  const outer = EnrolmentRequest.safeParse(file);
  if (!outer.success)
    throw new LiaisonError('ENROLMENT_REQUEST_INVALID', 'not an enrolment request');
  const claimed = claimedPayload(outer.data.request.payload);
  const signingPublicKey = fromBase64Url(claimed.signingKey);
  const codes = {
    invalid: 'ENROLMENT_REQUEST_INVALID',
    untrusted: 'ENROLMENT_REQUEST_INVALID',
  } as const;
  let json: unknown;
  try {
    json = openSigned('liaison/v1/enrolment-request', outer.data.request, signingPublicKey, codes);
  } catch {
    throw new LiaisonError(
      'ENROLMENT_REQUEST_INVALID',
      'the request is not signed by the key it enrols (no proof of possession)',
    );
  }
  const payload = EnrolmentRequestPayload.parse(json);
  const encryptionPublicKey = fromBase64Url(payload.encryptionKey);
  if (deviceKeyId(signingPublicKey, encryptionPublicKey) !== payload.keyId) {
    throw new LiaisonError('ENROLMENT_REQUEST_INVALID', 'the key id does not match the keys');
  }
  if (officeOfDevice(payload.deviceId) !== payload.officeId) {
    throw new LiaisonError('ENROLMENT_REQUEST_INVALID', 'the device is not of the office named');
  }
  return { ...payload, signingPublicKey, encryptionPublicKey };
}

/** The payload as claimed, before its signature is checked: only to learn which key to check. */
function claimedPayload(payload: string): EnrolmentRequestPayload {
  try {
    return EnrolmentRequestPayload.parse(
      JSON.parse(new TextDecoder().decode(fromBase64Url(payload))),
    );
  } catch {
    throw new LiaisonError(
      'ENROLMENT_REQUEST_INVALID',
      'the request payload does not match its schema',
    );
  }
}
