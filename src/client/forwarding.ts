// Forwarding an item to another office (PROTOCOL.md §8.1): the copy says where it came from and
// keeps its provider's handling code; an item marked H2 goes only where its provider office
// permitted, in a chat line of the conversation (`permitsForward`).
import type {
  AlertBody,
  Body,
  ChatBody,
  ForwardPermission,
  Handling,
} from '../../protocol/v1/payload.js';
import { LiaisonError } from '../errors.js';

/** A received item as the SDK delivered it (Message), the part forwarding needs. */
export interface Forwardable {
  readonly id: string;
  readonly from: string;
  readonly body: Body;
}

/** Most permissions kept (the oldest go first). */
const MAX_PERMISSIONS = 2_000;

/**
 * The permissions this device received, by the envelope they name and the office that gave
 * them (`${envelopeId} ${office}`): who gave it, to whom.
 */
export type PermissionState = Record<string, { from: string; to: string[] }>;

// Per giver: only the provider's own word counts, and another office's line about the same item
// (its id is named in every forwarded copy) neither replaces nor widens it.
const keyOf = (envelopeId: string, from: string) => `${envelopeId} ${from}`;

/** The forwarding permissions received from provider offices. */
export class ForwardPermissions {
  private readonly byEnvelope: Map<string, { from: string; to: string[] }>;

  constructor(saved: PermissionState = {}) {
    // Saved before they were kept per giver: keyed by the envelope id alone.
    this.byEnvelope = new Map(
      Object.entries(saved).map(([key, p]) => [key.includes(' ') ? key : keyOf(key, p.from), p]),
    );
  }

  /** Notes a permission carried by a verified chat line from office `from`. */
  note(from: string, permission: ForwardPermission): void {
    const key = keyOf(permission.envelopeId, from);
    const to = new Set([...(this.byEnvelope.get(key)?.to ?? []), ...permission.to]);
    this.byEnvelope.delete(key);
    this.byEnvelope.set(key, { from, to: [...to] });
    while (this.byEnvelope.size > MAX_PERMISSIONS) {
      this.byEnvelope.delete(this.byEnvelope.keys().next().value as string);
    }
  }

  /** Whether the provider of `item` permitted forwarding it to `officeId`. */
  permits(item: Forwardable, provider: string, officeId: string): boolean {
    return this.byEnvelope.get(keyOf(item.id, provider))?.to.includes(officeId) === true;
  }

  snapshot(): PermissionState {
    return Object.fromEntries(this.byEnvelope);
  }
}

/**
 * The permissions two records of one device hold together (two processes with its key each
 * saved what they received): every one either received, each to every office either saw named.
 */
export function mergePermissions(a: PermissionState, b: PermissionState): PermissionState {
  const merged = new ForwardPermissions(a);
  for (const [key, p] of Object.entries(b)) {
    const envelopeId = key.includes(' ') ? key.slice(0, key.indexOf(' ')) : key;
    merged.note(p.from, { envelopeId, to: p.to });
  }
  return merged.snapshot();
}

/**
 * The body to send when forwarding `item` to `officeId`: its chat or alert, marked with where it
 * came from and carrying the provider's handling. An item forwarded before keeps its first
 * provider. FORWARD_NOT_PERMITTED for an H2 item its provider did not permit to go there.
 */
export function forwardedBody(
  item: Forwardable,
  officeId: string,
  permissions: ForwardPermissions,
): ChatBody | AlertBody {
  const { body } = item;
  if (body.type !== 'chat' && body.type !== 'alert') {
    throw new TypeError('only chat lines and alerts are forwarded');
  }
  const origin = body.forwardedFrom ?? {
    envelopeId: item.id,
    office: item.from,
    handling: body.handling ?? ({ code: 'H0' } as Handling),
  };
  if (
    origin.handling.code === 'H2' &&
    !permissions.permits({ ...item, id: origin.envelopeId }, origin.office, officeId)
  ) {
    throw new LiaisonError('FORWARD_NOT_PERMITTED', undefined, {
      envelopeId: origin.envelopeId,
      provider: origin.office,
      to: officeId,
    });
  }
  const { permitsForward: _permission, ...rest } = body as ChatBody;
  return { ...rest, handling: origin.handling, forwardedFrom: origin } as ChatBody | AlertBody;
}
