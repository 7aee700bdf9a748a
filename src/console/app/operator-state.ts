import type { Body, Handling, KnownHead, PermissionState, SequenceState, Signed } from './sdk.js';

/** What an operator's Console keeps between visits (encrypted in the vault), and its pieces. */

export type Shown = Extract<Body, { type: 'chat' | 'alert' }>;

/** One line of a conversation: a chat message or an alert, either way. */
export interface Item {
  /** The envelope id; a local id while the item waits in the outbox. */
  id: string;
  localId?: string;
  dir: 'in' | 'out';
  at: number;
  body: Shown;
  failed?: string;
}

export interface KeyWarning {
  kind: 'changed' | 'added';
  deviceId: string;
  fingerprint: string;
}

/** What the browser keeps (encrypted) between visits. */
export interface OperatorState {
  v: 1;
  offset: number;
  items: Record<string, Item[]>;
  /** Per envelope sent, when each delivery state was reported. */
  statuses: Record<string, Partial<Record<Delivery, number>>>;
  outbox: { localId: string; officeId: string; body: Body }[];
  unread: Record<string, string[]>;
  acks: Record<string, { at: number; by: string }>;
  escalations: Record<string, number>;
  knownKeys: Record<string, string>;
  /** The newest directory head accepted: a gateway serving an older directory is refused. */
  knownHead?: KnownHead;
  /** Envelope counters this device used and saw (replays refused, gaps reported). */
  sequences?: SequenceState;
  /** The first inbox offset kept on the gateway because this device lacks its key. */
  heldOffset?: number;
  /** The newest checkpoint of CARICC's record this office verified and keeps. */
  knownCheckpoint?: Signed;
  /** This device's prekey chains, sealed for its key (PROTOCOL.md §5.6): what was sent to it opens. */
  prekeyState?: string;
  keyWarnings: KeyWarning[];
  /** The directory's signed statements, so a start without the gateway still knows the offices. */
  directory: Signed[];
  /** The office's handling code for what this desk sends, unless the operator picks another. */
  defaultHandling?: Handling;
  /** Forwarding permissions provider offices gave this office (PROTOCOL.md §8.1). */
  forwardPermissions?: PermissionState;
}

export type Delivery = 'accepted' | 'delivered' | 'read';
export type Connection = 'connecting' | 'online' | 'offline';

/** What an office sends with when nobody has chosen: for preventing and combating crime only. */
export const H0: Handling = { code: 'H0' };

export const emptyState = (): OperatorState => ({
  v: 1,
  offset: 0,
  items: {},
  statuses: {},
  outbox: [],
  unread: {},
  acks: {},
  escalations: {},
  knownKeys: {},
  keyWarnings: [],
  directory: [],
});
