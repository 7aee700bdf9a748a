import { z } from 'zod';
import * as v1 from './v1/index.js';

/**
 * The schemas published as JSON Schema (protocol/json-schema/<name>.json), one per wire message.
 * Generated from the zod schemas, which stay the source of truth; a test keeps the files in sync.
 */
export const PUBLISHED_SCHEMAS = {
  Envelope: v1.Envelope,
  EnvelopeHeader: v1.EnvelopeHeader,
  Plaintext: v1.Plaintext,
  ChatBody: v1.ChatBody,
  AlertBody: v1.AlertBody,
  ReceiptBody: v1.ReceiptBody,
  AlertAckBody: v1.AlertAckBody,
  Signed: v1.Signed,
  CertificatePayload: v1.CertificatePayload,
  AuthorityPublicKey: v1.AuthorityPublicKey,
  StatementPayload: v1.StatementPayload,
  DirectoryHeadPayload: v1.DirectoryHeadPayload,
  RecordCheckpointPayload: v1.RecordCheckpointPayload,
  SealedKeyFile: v1.SealedKeyFile,
  EnrolmentRequest: v1.EnrolmentRequest,
  EnrolmentRequestPayload: v1.EnrolmentRequestPayload,
  EnrolmentApproval: v1.EnrolmentApproval,
  PrekeyPayload: v1.PrekeyPayload,
  PrekeyState: v1.PrekeyState,
  ArchivedPrekey: v1.ArchivedPrekey,
  ArchiveKeyFile: v1.ArchiveKeyFile,
  TokenHeader: v1.TokenHeader,
  TokenClaims: v1.TokenClaims,
  HandshakeAuth: v1.HandshakeAuth,
  SendAck: v1.SendAck,
  FetchRequest: v1.FetchRequest,
  FetchAck: v1.FetchAck,
  InboxAckRequest: v1.InboxAckRequest,
  InboxAckAck: v1.InboxAckAck,
  RefreshRequest: v1.RefreshRequest,
  RefreshAck: v1.RefreshAck,
  CheckpointRequest: v1.CheckpointRequest,
  CheckpointAck: v1.CheckpointAck,
  PrekeyPublishRequest: v1.PrekeyPublishRequest,
  PrekeyPublishAck: v1.PrekeyPublishAck,
  PrekeyGetRequest: v1.PrekeyGetRequest,
  PrekeyGetAck: v1.PrekeyGetAck,
  Delivery: v1.Delivery,
  StatusEvent: v1.StatusEvent,
  PresenceEvent: v1.PresenceEvent,
  ClosingEvent: v1.ClosingEvent,
  EscalationEvent: v1.EscalationEvent,
  EncodingEvent: v1.EncodingEvent,
  DirectoryQuery: v1.DirectoryQuery,
  DirectoryResponse: v1.DirectoryResponse,
  SubmitStatementsRequest: v1.SubmitStatementsRequest,
  SubmitStatementsResponse: v1.SubmitStatementsResponse,
  SubmitHeadRequest: v1.SubmitHeadRequest,
  SubmitHeadResponse: v1.SubmitHeadResponse,
  ErrorResponse: v1.ErrorResponse,
  FeedSubscribeRequest: v1.FeedSubscribeRequest,
  FeedSubscribeAck: v1.FeedSubscribeAck,
  RecordEntry: v1.RecordEntry,
  FeedEscalation: v1.FeedEscalation,
  AttachmentRef: v1.AttachmentRef,
  BlobPutRequest: v1.BlobPutRequest,
  BlobPutAck: v1.BlobPutAck,
  BlobStatusRequest: v1.BlobStatusRequest,
  BlobStatusAck: v1.BlobStatusAck,
  BlobSealRequest: v1.BlobSealRequest,
  BlobSealAck: v1.BlobSealAck,
  BlobGetRequest: v1.BlobGetRequest,
  BlobGetAck: v1.BlobGetAck,
} as const;

/** JSON Schema has no bytes: a binary chunk is said to be one (a Socket.IO binary attachment). */
const BINARY = {
  type: 'string',
  contentEncoding: 'binary',
  description: `Socket.IO binary attachment (never base64 in JSON), ${v1.SECRETSTREAM_ABYTES}..${v1.MAX_BLOB_CHUNK_BYTES} bytes`,
};

/** The JSON Schema documents, by name, as they are written to disk. */
export function renderJsonSchemas(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, schema] of Object.entries(PUBLISHED_SCHEMAS)) {
    const json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io: 'input',
      unrepresentable: 'any',
      override: (ctx) => {
        if (ctx.zodSchema === v1.BinaryChunk || z.globalRegistry.get(ctx.zodSchema)?.binary) {
          for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
          Object.assign(ctx.jsonSchema, BINARY);
        }
      },
    });
    const document = {
      $id: `https://liaison.invalid/protocol/v1/${name}.json`,
      title: name,
      ...json,
    };
    files[name] = `${JSON.stringify(document, null, 2)}\n`;
  }
  return files;
}
