/**
 * Everything the Console takes from Liaison: the SDK's public entry (src/index.ts, `liaison` once
 * installed), and the libsodium helpers the Console's own vault uses. Nothing here is copied.
 */

export { Emitter } from '../../client/emitter.js';
export { fromBase64Url, ready, sodium, toBase64Url } from '../../crypto/sodium.js';
export {
  AlertBody as AlertBodySchema,
  type AlertBody,
  AlertCategory as AlertCategorySchema,
  type AlertCategory,
  type AttachmentRef,
  type Body,
  type CaseRef,
  type ClientEvents,
  Country as CountrySchema,
  createClientToken,
  type DeviceKeys,
  Directory,
  type Envelope,
  Evaluation as EvaluationSchema,
  type Evaluation,
  FeedEscalation,
  FeedSubscribeAck,
  fingerprint,
  Handling as HandlingSchema,
  type Handling,
  HUB_OFFICE_ID,
  isLiaisonError,
  type KnownHead,
  LiaisonClient,
  LiaisonError,
  type Message,
  type Office,
  officeOfDevice,
  type PermissionState,
  type PinnedAuthority,
  Precedence as PrecedenceSchema,
  type Precedence,
  pinAuthority,
  RecordEntry as RecordEntrySchema,
  type RecordEntry,
  type RecordFilter,
  type SequenceState,
  Signed,
  sniffType,
} from '../../index.js';
export {
  ConsoleKeyFile,
  openConsoleKey,
  WrongPassphrase,
} from '../../keystore/console-key.js';
