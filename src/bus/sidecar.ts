/**
 * The doorbell table beside a shm or file store: a small shared-memory file, named after the
 * store's device and inode so every process finds the same one, listing the processes of ours
 * that wait on the store and the FIFO each one listens on. Writers of ours read one word per
 * write (how many waiters are armed) and ring the armed ones; C processes never see this file
 * (docs/bus.md). A zero-filled table is a valid empty one, so creating it needs no lock.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { mapShared } from '../store/native-mmap.js';
import { SHM_DIR } from '../store/target.js';

export const SIDECAR_BYTES = 4096;
/** i32 index of the count of armed waiters: the only word a writer reads when nobody waits. */
export const ARMED_COUNT = 0;
export const ENTRY_START = 64;
export const ENTRY_BYTES = 64;
export const MAX_WAITERS = 32;
/** i32 offsets inside an entry. */
export const ENTRY = { pid: 0, token: 1, pending: 2, armed: 3 } as const;

export const entryBase = (entry: number): number => (ENTRY_START + entry * ENTRY_BYTES) >>> 2;
export const sidecarPath = (identity: string): string => `${SHM_DIR}/.splinter-bus-${identity}`;
export const fifoPath = (identity: string, pid: number, token: number): string =>
  `${sidecarPath(identity)}.${pid}.${token >>> 0}`;

/** Maps (creating if needed) the table of a store; undefined when it cannot (then waiting falls back to polling). */
export function mapSidecar(identity: string): Int32Array | undefined {
  const path = sidecarPath(identity);
  try {
    const { O_RDWR, O_CREAT, O_NOFOLLOW } = fs.constants;
    const fd = fs.openSync(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0o666);
    try {
      if (fs.fstatSync(fd).size < SIDECAR_BYTES) fs.ftruncateSync(fd, SIDECAR_BYTES);
      const mapping = mapShared(fd, SIDECAR_BYTES);
      return new Int32Array(mapping.buffer, mapping.byteOffset, SIDECAR_BYTES >>> 2);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** Removes a store's table and any FIFOs left beside it (used by Store.unlink). */
export function removeSidecar(identity: string): void {
  const prefix = `.splinter-bus-${identity}`;
  let names: string[] = [];
  try {
    names = fs.readdirSync(SHM_DIR).filter((name) => name === prefix || name.startsWith(`${prefix}.`));
  } catch {
    return;
  }
  for (const name of names) fs.rmSync(`${SHM_DIR}/${name}`, { force: true });
}

/** Creates a FIFO (Node has no mkfifo call; coreutils' mkfifo is on every Linux). */
export function makeFifo(path: string): boolean {
  try {
    execFileSync('mkfifo', [path], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when a process with this pid exists (it may belong to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
