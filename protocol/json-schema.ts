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
} as const;

/** The JSON Schema documents, by name, as they are written to disk. */
export function renderJsonSchemas(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [name, schema] of Object.entries(PUBLISHED_SCHEMAS)) {
    const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' });
    const document = {
      $id: `https://liaison.invalid/protocol/v1/${name}.json`,
      title: name,
      ...json,
    };
    files[name] = `${JSON.stringify(document, null, 2)}\n`;
  }
  return files;
}
