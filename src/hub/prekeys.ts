import type { DeviceKeys } from '../crypto/keys.js';
import { PrekeyStore } from '../crypto/prekey-store.js';
import { sodium } from '../crypto/sodium.js';
import type { PrekeyBoard } from '../engine/prekey-board.js';
import type { PrekeyArchive } from './prekey-archive.js';

/** How the hub keeps its prekeys (PROTOCOL.md §5.6, "The hub's prekeys"). */
export interface HubPrekeyOptions {
  /** The sealed state saved last time (`HUB_PREKEY_STATE_FILE`); none: a new chain. */
  readonly state?: string;
  /** Saves the sealed state whenever it changes. */
  readonly save?: (state: string) => Promise<void>;
  /**
   * CARICC's archive public key (X25519): a retired prekey's private half is sealed to it and
   * kept in the archive before the hub forgets it. Without one the hub keeps its prekeys for the
   * whole record retention (no forward secrecy on the hub host; it warns at start).
   */
  readonly archivePublicKey?: Uint8Array;
  /** How long after its end the hub host keeps a prekey when it has an archive key. */
  readonly windowMs: number;
}

/** The hub's signed prekeys: published for senders, opened for the record, retired to the archive. */
export class HubPrekeys {
  readonly store: PrekeyStore;

  constructor(
    private readonly keys: DeviceKeys,
    private readonly options: HubPrekeyOptions,
    private readonly retentionMs: number,
  ) {
    this.store = PrekeyStore.open(keys, options.state);
  }

  /** Publishes the hub's prekeys from today to a week ahead on the board gateways serve. */
  async publish(board: PrekeyBoard, now: number): Promise<void> {
    const signed = this.store.published(now);
    await board.put(
      this.keys.deviceId,
      signed.map((s) => {
        const payload = JSON.parse(Buffer.from(s.payload, 'base64url').toString('utf8'));
        return { prekeyId: payload.prekeyId, notAfter: payload.notAfter, text: JSON.stringify(s) };
      }),
      now,
    );
    await this.save();
  }

  /** Forgets the prekeys past their window, each sealed to the archive key first. */
  async retire(archive: PrekeyArchive, now: number): Promise<string[]> {
    const { archivePublicKey } = this.options;
    const sealed: { prekeyId: string; sealed: Uint8Array }[] = [];
    const window = archivePublicKey ? this.options.windowMs : this.retentionMs;
    const retired = this.store.retire(now, undefined, window, (prekeyId, secretKey) => {
      if (archivePublicKey) {
        sealed.push({ prekeyId, sealed: sodium.crypto_box_seal(secretKey, archivePublicKey) });
      }
    });
    // Archived before the state without them is saved: a crash in between loses nothing.
    for (const item of sealed) await archive.put(item.prekeyId, item.sealed);
    if (retired.length > 0) await this.save();
    return retired;
  }

  private async save(): Promise<void> {
    await this.options.save?.(this.store.seal());
  }
}
