import type { Envelope } from '../../protocol/v1/envelope.js';
import { HUB_OFFICE_ID, officeOfDevice } from '../../protocol/v1/primitives.js';
import type { Directory } from '../directory/directory.js';
import { LiaisonError } from '../errors.js';

/**
 * The relay's check of who an envelope is wrapped for: exactly the current key of every device of
 * the addressed offices and of the hub, plus, if the sender wants, its own office's other
 * devices. Like Signal's 409/410, the error says which devices are missing, stale or extra, so
 * the client refreshes its directory and seals again.
 */
export function checkRecipients(envelope: Envelope, directory: Directory, now: number): void {
  const { header, recipients } = envelope;
  const senderOffice = officeOfDevice(header.sender.deviceId);
  const required = directory.recipientKeys(header.to, now);
  const optional = directory
    .currentKeys([senderOffice], now)
    .filter((k) => k.deviceId !== header.sender.deviceId);
  const current = new Map([...required, ...optional].map((k) => [k.deviceId, k.keyId]));
  const given = new Map(recipients.map((r) => [r.deviceId, r.keyId]));

  const missing = required.filter((k) => !given.has(k.deviceId)).map((k) => k.deviceId);
  const stale = recipients
    .filter((r) => current.has(r.deviceId) && current.get(r.deviceId) !== r.keyId)
    .map((r) => r.deviceId);
  const extra = recipients.filter((r) => !current.has(r.deviceId)).map((r) => r.deviceId);

  const hubKeys = required.filter((k) => officeOfDevice(k.deviceId) === HUB_OFFICE_ID);
  if (hubKeys.length === 0 || hubKeys.some((k) => given.get(k.deviceId) !== k.keyId)) {
    throw new LiaisonError('HUB_NOT_RECIPIENT', undefined, { missing, stale, extra });
  }
  if (missing.length + stale.length + extra.length > 0) {
    throw new LiaisonError('RECIPIENTS_MISMATCH', undefined, { missing, stale, extra });
  }
}
