/** The shared, append-only log of signed directory statements (JSON texts), in order. */
export interface DirectoryLog {
  /** Appends if the log still has `expectedVersion` entries; returns success. */
  appendStatements(expectedVersion: number, statements: readonly string[]): Promise<boolean>;
  /** An append given in parts (while the rest is being checked), put on the log in one step. */
  startAppend(): StagedAppend;
  /** The statements after the first `after` (at most `limit` of them when given). */
  readStatements(after: number, limit?: number): Promise<string[]>;
  /** Replaces the signed directory head (its JSON text); the caller checked it is newer. */
  saveHead(head: string): Promise<void>;
  readHead(): Promise<string | undefined>;
}

/**
 * Statements to append, added part by part: nothing is on the log before `commit`, which puts
 * all of them there at once or none. Call `abort` instead to drop what was added.
 */
export interface StagedAppend {
  /** Adds the next statements; resolves once the parts before them are written (bounds memory). */
  add(statements: readonly string[]): Promise<void>;
  /** Appends everything added if the log still has `expectedVersion` entries; returns success. */
  commit(expectedVersion: number): Promise<boolean>;
  abort(): Promise<void>;
}

/** The directory log of one process. */
export class MemoryDirectoryLog implements DirectoryLog {
  private readonly statements: string[] = [];

  async appendStatements(expectedVersion: number, statements: readonly string[]) {
    if (this.statements.length !== expectedVersion) return false;
    // One at a time: spreading 200,000 arguments overflows the stack.
    for (const statement of statements) this.statements.push(statement);
    return true;
  }

  startAppend(): StagedAppend {
    let staged: string[] = [];
    return {
      add: async (statements) => {
        for (const statement of statements) staged.push(statement);
      },
      commit: (expectedVersion) => this.appendStatements(expectedVersion, staged),
      abort: async () => {
        staged = [];
      },
    };
  }

  async readStatements(after: number, limit?: number): Promise<string[]> {
    return this.statements.slice(after, limit === undefined ? undefined : after + limit);
  }

  private head: string | undefined;

  async saveHead(head: string): Promise<void> {
    this.head = head;
  }

  async readHead(): Promise<string | undefined> {
    return this.head;
  }
}
