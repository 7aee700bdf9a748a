// The compact-encoding vector (PROTOCOL.md §9.5): the chat and alert vector envelopes spelled
// field by field, written here straight from the section's table (not through the codec), so the
// test that compares the two checks the codec against the text.
import type { Envelope } from '../protocol/v1/envelope.js';

const KINDS = ['chat', 'alert', 'receipt', 'alert-ack'];
const PRECEDENCES = ['FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE'];

const raw = (text: string) => Buffer.from(text, 'base64url');
const u8 = (n: number) => Buffer.from([n]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};
const id = (text: string) => Buffer.concat([u8(text.length), Buffer.from(text, 'ascii')]);

/** Each field of §9.5's table, in order: its name and its bytes in hex. */
export function compactFields(e: Envelope): { field: string; hex: string }[] {
  const h = e.header;
  const fields: [string, Buffer][] = [
    ['format', u8(4)],
    ['kind', u8(KINDS.indexOf(h.kind))],
    ['precedence', u8(h.precedence ? PRECEDENCES.indexOf(h.precedence) + 1 : 0)],
    ['header.id', Buffer.from(h.id.replaceAll('-', ''), 'hex')],
    ['header.sender.deviceId', id(h.sender.deviceId)],
    ['header.sender.keyId', raw(h.sender.keyId)],
    ['header.to count', u8(h.to.length)],
    ...h.to.map((office, i): [string, Buffer] => [`header.to[${i}]`, id(office)]),
    ['header.createdAt', u64(h.createdAt)],
    ['header.counter', u64(h.counter)],
    ['header.directory.version', u64(h.directory.version)],
    ['header.directory.hash', raw(h.directory.hash)],
    ['header.keyCommitment', raw(h.keyCommitment)],
    ['nonce', raw(e.nonce)],
    ['recipients count', u8(e.recipients.length)],
  ];
  e.recipients.forEach((r, i) => {
    const at = `recipients[${i}]`;
    fields.push([`${at} flags`, u8(r.prekeyId === undefined ? 0 : 1)]);
    fields.push([`${at}.deviceId`, id(r.deviceId)]);
    fields.push([`${at}.keyId`, raw(r.keyId)]);
    if (r.prekeyId !== undefined) fields.push([`${at}.prekeyId`, raw(r.prekeyId)]);
    fields.push([`${at}.wrappedKey`, raw(r.wrappedKey)]);
  });
  const ciphertext = raw(e.ciphertext);
  fields.push(['signature', raw(e.signature)]);
  fields.push(['ciphertext length', u32(ciphertext.length)]);
  fields.push(['ciphertext', ciphertext]);
  return fields.map(([field, bytes]) => ({ field, hex: bytes.toString('hex') }));
}

/** The vector file: for each envelope, its JSON form, its fields and the whole compact bytes. */
export function compactVector(envelopes: { of: string; envelope: Envelope }[]) {
  return {
    description:
      'The chat and alert vector envelopes in the compact encoding (PROTOCOL.md §9.5): compactHex is the fields, in order, concatenated; decoding it gives `envelope` exactly',
    items: envelopes.map(({ of, envelope }) => {
      const fields = compactFields(envelope);
      const compactHex = fields.map((f) => f.hex).join('');
      return { of, envelope, fields, compactHex, compactBytes: compactHex.length / 2 };
    }),
  };
}
