import { Signed } from '../../protocol/v1/certificate.js';
import type { StatementPayload } from '../../protocol/v1/statement.js';
import type { PinnedAuthority } from '../crypto/certificate.js';
import { statementHash, verifyDirectoryHead } from '../crypto/statement.js';
import { applyInBulk, BULK_WINDOW, inWindows } from '../directory/bulk-apply.js';
import { Directory } from '../directory/directory.js';
import type { DirectoryLog } from '../engine/directory-log.js';
import { channels } from '../engine/keyspace.js';
import type { PubSub } from '../engine/pubsub.js';
import { RETRY_AFTER_MS } from '../engine/redis/health.js';
import { LiaisonError } from '../errors.js';

/** The log no longer holds what this server applied at `version`: nothing to serve until fixed. */
const logChanged = (message: string, version: number) =>
  new LiaisonError('UNAVAILABLE', message, {
    reason: 'directory-log-changed',
    retryAfterMs: RETRY_AFTER_MS,
    version,
  });

/** The log's texts as statements, parsed a window at a time as applyInBulk asks for them. */
function* parsedInWindows(texts: readonly string[]): Generator<Signed[]> {
  for (let at = 0; at < texts.length; at += BULK_WINDOW) {
    yield texts.slice(at, at + BULK_WINDOW).map((text) => Signed.parse(JSON.parse(text)));
  }
}

/** Longest an instance may lag behind the shared directory log. */
const REFRESH_EVERY_MS = 2_000;
/** Statements read from the log per request: a 100,000-device log is read in pages. */
const READ_PAGE = 5_000;

/**
 * A server's copy of the directory, kept in step with the log every instance shares. The
 * gateway stores and serves authority-signed statements; it can refuse them but never make one.
 */
export class DirectorySync {
  directory: Directory;
  /** The newest directory head that checked out against this directory, if any was published. */
  head: Signed | undefined;
  private headText: string | undefined;
  private readonly listeners: ((statement: StatementPayload) => void)[] = [];
  private refreshing: Promise<void> = Promise.resolve();
  private poll: NodeJS.Timeout | undefined;
  private readonly onMessage = () => {
    void this.refresh();
  };

  constructor(
    private readonly log: DirectoryLog,
    private readonly pubsub: PubSub,
    private readonly authority: PinnedAuthority,
  ) {
    // The statements are in the shared log: this copy keeps what it needs to answer, not them.
    this.directory = new Directory(authority, { keepStatements: false });
  }

  /** Loads the shared log, then follows changes other instances announce. */
  async start(): Promise<void> {
    await this.pubsub.subscribe(channels.directory, this.onMessage);
    await this.refresh();
    // Pub/sub drops messages while a connection is re-established; polling the log's length
    // bounds how long an instance can miss a revocation.
    this.poll = setInterval(this.onMessage, REFRESH_EVERY_MS);
    this.poll.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.poll);
    await this.pubsub.unsubscribe(channels.directory, this.onMessage);
  }

  /** Called for every statement applied after start (revocations cut sessions). */
  onStatement(listener: (statement: StatementPayload) => void): void {
    this.listeners.push(listener);
  }

  /** Applies what the shared log has beyond our version; serialised so none is applied twice. */
  refresh(): Promise<void> {
    const next = this.refreshing.then(async () => {
      for (;;) {
        const page = await this.log.readStatements(this.directory.version, READ_PAGE);
        // A long log (another instance's first start) has its signatures checked on all cores.
        if (page.length > 0) {
          await applyInBulk(this.directory, parsedInWindows(page), async (_, applied) => {
            for (const { statement } of applied) {
              for (const listener of this.listeners) listener(statement);
            }
          });
        }
        if (page.length < READ_PAGE) break;
      }
      const headText = await this.log.readHead();
      if (headText !== undefined && headText !== this.headText) {
        // Checked again here: whoever writes the shared log could have put anything there. An
        // expired head is still served, so that clients refuse it with a clear code.
        let head: Signed | undefined;
        try {
          head = Signed.parse(JSON.parse(headText));
          verifyDirectoryHead(head, this.authority);
        } catch {
          head = undefined; // not the authority's word: keep the head we had
        }
        if (head) {
          const { version } = verifyDirectoryHead(head, this.authority);
          if (version > this.directory.version) {
            // The authority vouched for statements the shared log no longer has.
            throw new LiaisonError('DIRECTORY_ROLLBACK', 'statements the head names are missing', {
              version: this.directory.version,
              head: version,
            });
          }
          this.directory.matchHead(head);
          this.head = head;
          this.headText = headText;
        }
      }
    });
    // A failed refresh must not block the ones after it.
    this.refreshing = next.catch(() => undefined);
    return next;
  }

  /**
   * The statements of the directory after the first `after` up to `version`, as JSON texts,
   * read from the shared log in pages: what a gateway serves (it does not keep them). Each is
   * checked to be the very statement applied at its place (by its hash), so what is served is
   * what was verified; a log that lost or changed one since is UNAVAILABLE.
   */
  async statementTexts(after: number, version = this.directory.version): Promise<string[]> {
    const { directory } = this;
    const texts: string[] = [];
    for (let at = after; at < version; ) {
      const page = await this.log.readStatements(at, Math.min(READ_PAGE, version - at));
      if (page.length === 0) break;
      for (const text of page) {
        at++;
        let signed: Signed | undefined;
        try {
          signed = Signed.parse(JSON.parse(text));
        } catch {
          signed = undefined;
        }
        if (!signed || statementHash(signed) !== directory.positionAt(at)?.hash) {
          throw logChanged('the shared directory log changed under this server', at);
        }
        texts.push(JSON.stringify(signed));
      }
    }
    if (after + texts.length < version) {
      throw logChanged('the shared directory log lost statements', after + texts.length + 1);
    }
    return texts;
  }

  /**
   * Accepts a directory head submitted over HTTP: signed by the authority, not expired, naming
   * this directory's log, and not older than the head already served (DIRECTORY_ROLLBACK).
   * Returns the head's version.
   */
  async submitHead(head: Signed): Promise<number> {
    await this.refresh();
    const now = Date.now();
    const offered = this.directory.checkHead(head, now);
    if (this.head) {
      const current = this.directory.matchHead(this.head);
      if (offered.version < current.version || offered.issuedAt < current.issuedAt) {
        throw new LiaisonError('DIRECTORY_ROLLBACK', 'a newer directory head is already served', {
          version: current.version,
        });
      }
    }
    await this.log.saveHead(JSON.stringify(head));
    await this.pubsub.publish(channels.directory, String(this.directory.version));
    await this.refresh();
    return offered.version;
  }

  /**
   * Accepts statements submitted over HTTP, or loaded at start (`statements` then a function
   * that reads them in windows, called once per attempt: a large file is never in memory whole):
   * each must verify against the authority and fit the directory; repeats are skipped. Returns the
   * directory version after them. The cost does not grow with the directory: repeats cost a
   * hash, a statement out of place is refused before any signature check, and each new one is
   * checked once against the head and stored in turn.
   */
  async submit(
    statements: readonly Signed[] | (() => AsyncIterable<readonly Signed[]>),
  ): Promise<number> {
    for (let attempt = 0; attempt < 5; attempt++) {
      await this.refresh();
      // A post: repeats cost a hash and a statement out of place is refused before any copy or
      // signature check.
      if (typeof statements !== 'function' && this.directory.fresh(statements).length === 0) {
        return this.directory.version;
      }
      const windows = typeof statements === 'function' ? statements() : inWindows(statements);
      // Tried on a copy, so every signature and rule is checked before anything is on the log
      // (one bad statement refuses the batch), and each is verified once: the copy becomes the
      // directory once the log took the batch, nothing is read back and verified again. The
      // texts are staged as each window is applied, while the next one's signatures are checked
      // on all cores.
      const base = this.directory.version;
      const scratch = this.directory.fork();
      const staged = this.log.startAppend();
      const applied: StatementPayload[] = [];
      const told = this.listeners.length > 0;
      let count: number;
      try {
        count = await applyInBulk(scratch, windows, async (window, done) => {
          if (told) for (const { statement } of done) applied.push(statement);
          await staged.add(window.map(({ signed }) => JSON.stringify(signed)));
        });
      } catch (error) {
        await staged.abort();
        throw error;
      }
      if (count === 0) {
        await staged.abort();
        return this.directory.version;
      }
      if (await staged.commit(base)) {
        this.directory = scratch;
        for (const statement of applied) {
          for (const listener of this.listeners) listener(statement);
        }
        await this.pubsub.publish(channels.directory, String(base + count));
        return this.directory.version;
      }
    }
    throw new LiaisonError('UNAVAILABLE', 'the directory is changing too fast; retry');
  }
}
