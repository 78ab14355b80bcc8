/**
 * Whether a store's name still leads to the file a handle mapped. A store unlinked, or replaced
 * under its name (created again, renamed over), leaves the handle on memory nobody else writes:
 * its waits would never wake. One stat of the name against the dev and ino recorded at open.
 */
import fs from 'node:fs';
import { SplinterError } from '../errors.js';

/** How often a waiting process looks at the name: one stat per look, and only while something waits. */
export const STALE_CHECK_MS = 250;

export class NameCheck {
  /** Sticky: once no name leads to the file, it stays so (a replaced file does not come back). */
  private found: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /**
     * The absolute paths the store was opened by (one per handle of the line); the store is stale
     * when none of them leads to it any more, since a writer may still reach it by any one.
     */
    private readonly storePaths: readonly string[],
    /** "dev-ino" of the mapped file (Backing.identity). */
    private readonly identity: string,
  ) {}

  /** The ESTALE of this handle's store, looking at the name now; undefined while the name leads to it. */
  look(): SplinterError | undefined {
    if (this.found === undefined) this.found = this.lookAtName();
    // A new error per look: a later caller does not get an earlier one's stack.
    return this.found === undefined ? undefined : new SplinterError('ESTALE', this.found);
  }

  /** The ESTALE when an earlier look found the name leading elsewhere, without looking again. */
  known(): SplinterError | undefined {
    return this.found === undefined ? undefined : new SplinterError('ESTALE', this.found);
  }

  /** While something waits: looks every STALE_CHECK_MS and calls `onStale` once when the name leads elsewhere. */
  start(onStale: (error: SplinterError) => void): void {
    if (this.timer !== undefined) return;
    const timer = setInterval(() => {
      const error = this.look();
      if (error === undefined) return;
      this.stop();
      onStale(error);
    }, STALE_CHECK_MS);
    // The waiter's keep-alive holds the process; this look alone never does.
    timer.unref();
    this.timer = timer;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The message of the ESTALE, or undefined while some name leads to the mapped file. */
  private lookAtName(): string | undefined {
    let message: string | undefined;
    for (const storePath of new Set(this.storePaths)) {
      const why = this.lookAt(storePath);
      if (why === undefined) return undefined;
      message ??= why;
    }
    return message;
  }

  private lookAt(storePath: string): string | undefined {
    let now: string;
    try {
      // stat, not lstat: a file store opened through a symbolic link was mapped by what it leads to.
      const named = fs.statSync(storePath);
      now = `${named.dev}-${named.ino}`;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Only a missing name is an answer; a transient failure (EMFILE, EACCES…) says nothing either way.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
      return `the store ${storePath} was unlinked while this handle had it open: nothing will wake its waits; open it again by name`;
    }
    if (now === this.identity) return undefined;
    return `the store ${storePath} was replaced while this handle had it open (expected file ${this.identity}, the name now leads to ${now}): nothing will wake its waits; open it again by name`;
  }
}
