/**
 * Where devices and the hub leave their signed prekeys (PROTOCOL.md §5.6) for senders to fetch.
 * Redis can drop or withhold them, never forge one: senders and readers verify every prekey
 * under the certificate it names. Prekeys stay after they expire, for as long as an envelope
 * sealed to them may wait (`PREKEY_KEEP_MS`): readers rebuild the hub's wrap with them.
 */
export interface PrekeyBoard {
  /**
   * Keeps prekeys of one device in place of its prekeys still valid (a device that lost its state
   * and made new ones must not leave senders its old ones); drops those past `notAfter +
   * PREKEY_KEEP_MS`.
   */
  put(deviceId: string, prekeys: readonly BoardPrekey[], now: number): Promise<void>;
  /** Every kept prekey of each device (device id → its prekeys, any order). */
  get(deviceIds: readonly string[]): Promise<Map<string, BoardPrekey[]>>;
}

/** One signed prekey as kept: its id and end (read from the verified payload) and its JSON text. */
export interface BoardPrekey {
  readonly prekeyId: string;
  readonly notAfter: number;
  readonly text: string;
}

/** How long a prekey stays on the board after it ends: the longest an envelope waits, and a day. */
export const PREKEY_KEEP_MS = 31 * 24 * 60 * 60 * 1000;
/** Most prekeys kept per device (8 published at a time, the rest for readers); oldest go first. */
export const MAX_KEPT_PREKEYS = 48;

/** What `put` keeps of a device's old and new prekeys. */
export function keptPrekeys(
  old: readonly BoardPrekey[],
  added: readonly BoardPrekey[],
  now: number,
): BoardPrekey[] {
  const fresh = new Set(added.map((p) => p.prekeyId));
  // Ended prekeys stay for readers; a valid one stays only if published again.
  const byId = new Map(
    old.filter((p) => p.notAfter <= now || fresh.has(p.prekeyId)).map((p) => [p.prekeyId, p]),
  );
  for (const p of added) byId.set(p.prekeyId, p);
  return [...byId.values()]
    .filter((p) => p.notAfter + PREKEY_KEEP_MS > now)
    .sort((a, b) => b.notAfter - a.notAfter)
    .slice(0, MAX_KEPT_PREKEYS);
}

/** The board of one process (the quick start, tests). */
export class MemoryPrekeyBoard implements PrekeyBoard {
  private readonly kept = new Map<string, BoardPrekey[]>();

  async put(deviceId: string, prekeys: readonly BoardPrekey[], now: number): Promise<void> {
    this.kept.set(deviceId, keptPrekeys(this.kept.get(deviceId) ?? [], prekeys, now));
  }

  async get(deviceIds: readonly string[]): Promise<Map<string, BoardPrekey[]>> {
    return new Map(deviceIds.map((id) => [id, [...(this.kept.get(id) ?? [])]]));
  }
}
