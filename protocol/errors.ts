/**
 * The one list of Liaison error codes. Every error that crosses the wire (a Socket.IO ack, an HTTP
 * body, a connect refusal) or that the SDK throws carries one of these codes. Codes are stable:
 * they are never renamed or reused; new ones are only added.
 *
 * `status` is the HTTP status used when the error answers an HTTP request.
 */
export const ERRORS = {
  // Input shape
  VALIDATION_FAILED: { status: 400, message: 'The message does not match its schema' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The message is larger than the limit' },
  UNSUPPORTED_VERSION: { status: 400, message: 'The protocol version is not supported' },

  // Certificates and directory statements
  CERT_INVALID: { status: 400, message: 'The certificate is malformed or its signature is wrong' },
  CERT_UNTRUSTED: { status: 403, message: 'The certificate is not signed by the pinned authority' },
  CERT_EXPIRED: { status: 403, message: 'The certificate has expired' },
  CERT_NOT_YET_VALID: { status: 403, message: 'The certificate is not valid yet' },
  CERT_REVOKED: { status: 403, message: 'The device or key has been revoked' },
  CERT_UNKNOWN: { status: 404, message: 'No certificate is known for this device and key' },
  KEY_ROTATED: { status: 403, message: 'The key was rotated before the envelope was created' },
  STATEMENT_INVALID: { status: 400, message: 'The directory statement is malformed or unsigned' },
  STATEMENT_UNTRUSTED: { status: 403, message: 'The statement is not signed by the authority' },
  STATEMENT_CONFLICT: { status: 409, message: 'The statement contradicts the directory' },
  STATEMENT_OUT_OF_ORDER: {
    status: 409,
    message: 'The statement does not follow the directory log (sequence or previous hash)',
  },
  DIRECTORY_HEAD_INVALID: {
    status: 400,
    message: 'The directory head is malformed, unsigned or does not match the statements',
  },
  CHECKPOINT_INVALID: {
    status: 400,
    message: 'The record checkpoint is malformed or not signed by a hub key',
  },
  DIRECTORY_HEAD_EXPIRED: { status: 409, message: 'The directory head has expired' },
  DIRECTORY_ROLLBACK: {
    status: 409,
    message: 'The directory is older than one already seen (a statement may be withheld)',
  },
  DIRECTORY_FORK: {
    status: 409,
    message: 'Two different directories claim the same version (the log was forked)',
  },

  // Key files and enrolment (local: the CLI and the SDK's Node entry)
  KEY_FILE_PASSPHRASE_WRONG: {
    status: 400,
    message: 'The passphrase is wrong, or the key file was changed',
  },
  KEY_FILE_PASSPHRASE_MISSING: {
    status: 400,
    message: 'The key file is sealed and no passphrase was given',
  },
  ENROLMENT_REQUEST_INVALID: {
    status: 400,
    message: 'The enrolment request is malformed or its proof of possession does not verify',
  },

  // Signed prekeys (forward secrecy, PROTOCOL.md §5.6)
  PREKEY_INVALID: {
    status: 400,
    message: 'The prekey is malformed or not signed by the key it names',
  },
  PREKEY_MISSING: {
    status: 409,
    message:
      'The recipient key has no valid prekey for this time (a sender requiring forward secrecy stops)',
  },
  PREKEY_STATE_INVALID: {
    status: 400,
    message: 'The saved prekey state is not this device’s or was changed',
  },

  // Attachments (PROTOCOL.md §8.2)
  QUOTA_EXCEEDED: {
    status: 507,
    message: "The office's stored attachments would exceed its quota; retry after some expire",
  },
  BLOB_NOT_FOUND: {
    status: 404,
    message: 'No such attachment blob for this office (never uploaded, expired, or not sealed)',
  },
  BLOB_INVALID: {
    status: 409,
    message:
      'The blob upload does not fit: chunk out of order, sealed already, or count/size/hash wrong',
  },
  ATTACHMENT_INVALID: {
    status: 400,
    message: 'The attachment does not match its hash or a chunk does not decrypt: refused',
  },

  // Envelopes
  ENVELOPE_INVALID: { status: 400, message: 'The envelope is malformed' },
  SIGNATURE_INVALID: { status: 400, message: 'The envelope signature does not verify' },
  NOT_A_RECIPIENT: { status: 403, message: 'This device key is not among the recipients' },
  OWN_KEY_MISSING: {
    status: 409,
    message: 'The envelope is wrapped for a key of this device that it no longer holds',
  },
  ENVELOPE_REPLAYED: {
    status: 409,
    message: 'This envelope (its sender counter) was received before: a replay, not a new message',
  },
  ENVELOPE_TOO_OLD: {
    status: 410,
    message: 'The envelope is older than any this device accepts (a replay from beyond retention)',
  },
  CHECKPOINT_CONFLICT: {
    status: 409,
    message: 'The hub signed two different records at the same position: its record was rewritten',
  },
  ENVELOPES_MISSING: {
    status: 409,
    message: 'Envelopes of this sender never arrived (a gap in its counter): possibly missing',
  },
  HUB_NOT_RECIPIENT: { status: 400, message: 'The envelope does not wrap its key for the hub' },
  KEY_COMMITMENT_MISMATCH: {
    status: 400,
    message: 'The unwrapped content key does not match the key commitment in the header',
  },
  HUB_KEY_MISMATCH: {
    status: 400,
    message: 'The key wrapped for the hub is not the content key the recipients got',
  },
  META_MISMATCH: {
    status: 400,
    message: "The gateway's routing metadata differs from the envelope it came with",
  },
  DECRYPT_FAILED: { status: 400, message: 'The envelope could not be decrypted' },
  INNER_SENDER_MISMATCH: {
    status: 400,
    message: 'The sender inside the plaintext differs from the header',
  },
  PAYLOAD_INVALID: { status: 400, message: 'The decrypted payload does not match its schema' },

  // Tokens and sessions
  TOKEN_INVALID: { status: 401, message: 'The token is malformed or its signature is wrong' },
  TOKEN_EXPIRED: { status: 401, message: 'The token has expired' },
  TOKEN_AUDIENCE: { status: 401, message: 'The token is for another audience' },
  TOKEN_LIFETIME: { status: 401, message: 'The token lives longer than allowed' },
  TOKEN_REPLAYED: { status: 401, message: 'The token has already been used' },
  DEVICE_UNKNOWN: { status: 401, message: 'The device is not in the directory' },
  DEVICE_REVOKED: { status: 401, message: 'The device has been revoked' },
  SESSION_REPLACED: {
    status: 409,
    message: 'A newer connection of the same device replaced this one',
  },
  SERVER_SHUTDOWN: { status: 503, message: 'The server is shutting down; reconnect shortly' },

  // Relay
  NOT_LINKED: { status: 403, message: 'The sender office is not linked to the recipient office' },
  RECIPIENTS_MISMATCH: {
    status: 409,
    message: 'The envelope does not wrap the key for exactly the current devices',
  },
  SENDER_MISMATCH: { status: 403, message: 'The envelope names another device as its signer' },
  RATE_LIMITED: { status: 429, message: 'Too many messages; slow down' },
  SLOW_CONSUMER: {
    status: 503,
    message:
      'The connection did not read what it was sent in time and was closed; reconnect and fetch',
  },
  INBOX_FULL: {
    status: 507,
    message: 'A recipient device has too many envelopes waiting; retry once it has caught up',
  },
  HISTORY_EXPIRED: { status: 410, message: 'Messages expired before this device fetched them' },
  ENVELOPE_LOST: {
    status: 410,
    message: "The gateway's store no longer holds this envelope's body (deleted or overwritten)",
  },
  FORWARD_NOT_PERMITTED: {
    status: 403,
    message:
      'The item is marked H2: its provider office has not permitted forwarding it to that office',
  },
  UNAUTHORIZED: { status: 401, message: 'Authentication is required' },
  FORBIDDEN: { status: 403, message: 'This identity may not do that' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  UNAVAILABLE: { status: 503, message: 'The service is temporarily unavailable; retry later' },
  INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A stable error code, e.g. `'SIGNATURE_INVALID'`. */
export type ErrorCode = keyof typeof ERRORS;

/** Every error code, in the order of the list above. */
export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];
