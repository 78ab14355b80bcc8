/**
 * The deadline table's file: /dev/shm/.splinter-deadlines-<dev>-<ino>, named after the store's
 * device and inode like the doorbell table (bus/sidecar.ts), so every process finds the same one
 * and a store made again under the same name starts with none. Made exclusively under a name of
 * its own, sized and given its header, then linked into place: no process sees it half made.
 * Opened without following links and checked as every side file is (bus/side-file-policy.ts).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { removeSideFile, settleNewSideFile, sideFileMode, sideFileProblem, storeOwnership, euid } from '../bus/side-file-policy.js';
import { DeadlineTable, deadlineTableBytes, deadlineTableProblem, initDeadlineTable } from '../store/slot/deadlines.js';
import { mapShared } from '../store/backing/native-mmap.js';
import { SHM_DIR } from '../store/backing/target.js';

// node:crypto is loaded when first needed, not with the store: loading it costs a one-shot command more than its work.
const crypto = (): typeof import('node:crypto') => createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');

const { O_RDWR, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
const ATTEMPTS = 5;
const PREFIX = '.splinter-deadlines-';

export const deadlineFilePath = (identity: string): string => `${SHM_DIR}/${PREFIX}${identity}`;

const errorCode = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? String(error);

/**
 * Maps the deadline table of the store at `storePath` (device-inode `identity`), making it when
 * `create`. Returns the table; a string saying why it cannot be used; undefined when there is
 * none and none was to be made.
 */
export function openDeadlineFile(identity: string, storePath: string, slots: number, create: boolean): DeadlineTable | string | undefined {
  const store = storeOwnership(storePath, identity);
  if (typeof store === 'string') return store;
  const mode = sideFileMode(store);
  if (typeof mode === 'string') return mode;
  const path = deadlineFilePath(identity);
  const size = deadlineTableBytes(slots);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ELOOP') return `the deadline table ${path} is a symbolic link`;
      if (code !== 'ENOENT') return `cannot open the deadline table ${path} (${code})`;
      if (!create) return undefined;
      const temporary = `${path}.new-${process.pid}-${crypto().randomBytes(6).toString('hex')}`;
      try {
        fd = fs.openSync(temporary, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
      } catch (making) {
        return `cannot create the deadline table ${temporary} (${errorCode(making)})`;
      }
      try {
        settleNewSideFile(fd, mode, store);
        fs.ftruncateSync(fd, size);
        const header = new Uint8Array(64);
        initDeadlineTable(header, slots);
        fs.writeSync(fd, header, 0, header.length, 0);
        fs.linkSync(temporary, path);
      } catch (making) {
        fs.closeSync(fd);
        if (errorCode(making) === 'EEXIST') continue; // another process made it first: open theirs
        return `cannot create the deadline table ${path} (${errorCode(making)})`;
      } finally {
        removeSideFile(temporary, 'table', [euid(), store.uid]);
      }
    }
    try {
      const problem = sideFileProblem(fs.fstatSync(fd), `the deadline table ${path}`, 'table', store, size);
      if (problem !== undefined) return problem;
      const bytes = mapShared(fd, size);
      const wrong = deadlineTableProblem(bytes, slots);
      if (wrong !== undefined) return `the deadline table ${path} is not one of this store: ${wrong}`;
      return new DeadlineTable(bytes);
    } catch (error) {
      return `cannot map the deadline table ${path} (${error instanceof Error ? error.message : String(error)})`;
    } finally {
      fs.closeSync(fd);
    }
  }
  return `the deadline table ${path} kept appearing and vanishing while it was opened`;
}

/** Removes a store's deadline table (Store.unlink): only a regular file we or the store's owner own, never through a link. */
export function removeDeadlineFile(identity: string, storeUid: number): void {
  removeSideFile(deadlineFilePath(identity), 'table', [euid(), storeUid]);
}
