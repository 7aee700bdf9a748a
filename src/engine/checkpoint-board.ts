/**
 * Where the hub leaves the checkpoints it signs (PROTOCOL.md §10a) and gateways read the latest
 * for offices to keep. Redis can drop or withhold them, never forge one: readers verify the
 * hub's signature themselves.
 */
export interface CheckpointBoard {
  /** Keeps a signed checkpoint's JSON text (the most recent `kept`). */
  post(text: string, kept: number): Promise<void>;
  /** Every checkpoint kept, oldest first, as stored. */
  all(): Promise<string[]>;
  /** The newest checkpoint's JSON text, if any. */
  latest(): Promise<string | undefined>;
}

/** The board of one process (the quick start has no hub on it; tests post to it). */
export class MemoryCheckpointBoard implements CheckpointBoard {
  private texts: string[] = [];

  async post(text: string, kept: number): Promise<void> {
    this.texts = [...this.texts, text].slice(-kept);
  }

  async all(): Promise<string[]> {
    return [...this.texts];
  }

  async latest(): Promise<string | undefined> {
    return this.texts.at(-1);
  }
}
