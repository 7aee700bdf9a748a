/**
 * Everything the Console takes from Liaison's SDK, in one place: after the SDK's public entry
 * (src/index.ts) lands, only this file changes. Nothing here is copied from the SDK.
 */

export {
  FeedEscalation,
  FeedSubscribeAck,
  type RecordEntry,
  RecordEntry as RecordEntrySchema,
  type RecordFilter,
} from '../../../protocol/v1/analyst.js';
export { Signed } from '../../../protocol/v1/certificate.js';
export type { Envelope, Precedence } from '../../../protocol/v1/envelope.js';
export { Precedence as PrecedenceSchema } from '../../../protocol/v1/envelope.js';
export type { AlertBody, AlertCategory, Body } from '../../../protocol/v1/payload.js';
export {
  AlertBody as AlertBodySchema,
  AlertCategory as AlertCategorySchema,
} from '../../../protocol/v1/payload.js';
export {
  Country as CountrySchema,
  HUB_OFFICE_ID,
  officeOfDevice,
} from '../../../protocol/v1/primitives.js';
export { type ClientEvents, LiaisonClient, type Message } from '../../client/client.js';
export { Emitter } from '../../client/emitter.js';
export { type PinnedAuthority, pinAuthority } from '../../crypto/certificate.js';
export { type DeviceKeys, fingerprint } from '../../crypto/keys.js';
export { fromBase64Url, ready, sodium, toBase64Url } from '../../crypto/sodium.js';
export { createClientToken } from '../../crypto/token.js';
export { Directory, type Office } from '../../directory/directory.js';
export { isLiaisonError, LiaisonError } from '../../errors.js';
export {
  ConsoleKeyFile,
  openConsoleKey,
  WrongPassphrase,
} from '../keyfile.js';
