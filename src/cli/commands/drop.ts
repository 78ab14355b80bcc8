/**
 * `splinter drop NAME|PATH`: removes a store and every side file of ours beside it (the doorbell
 * table and waiters' FIFOs in /dev/shm, named after the store's device and inode), after asking.
 * The removal itself is Store.unlink's, which never follows a link nor removes another user's file.
 * A file a creation left without its magic (it died: a full disk under C, a kill) is dropped too,
 * once untouched for CREATION_GRACE_MS, so that `init` can make the store again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CREATION_GRACE_MS, resolveTarget, SHM_DIR, sidecarPath, storeFileState } from '../../facade/inspect.js';
import { Store } from '../../facade/store.js';
import type { Context } from '../context.js';
import { CliFailure, UsageError } from '../usage-error.js';
import { grouped } from '../values.js';

/** The side files in /dev/shm that belong to the store with this device and inode. */
function sideFilesOf(stat: fs.Stats): string[] {
  const base = path.basename(sidecarPath(`${stat.dev}-${stat.ino}`));
  try {
    return fs
      .readdirSync(SHM_DIR)
      .filter((name) => name === base || name.startsWith(`${base}.`))
      .sort()
      .map((name) => `${SHM_DIR}/${name}`);
  } catch {
    return [];
  }
}

function stillThere(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Asks before removing `what`, unless --yes; refuses (usage error) where nobody can answer. Stream drop asks the same way. */
export async function confirmed(ctx: Context, question: string, what = 'a store', usage = 'drop'): Promise<boolean> {
  if (ctx.flag('yes')) return true;
  if (ctx.io.ask === undefined || !ctx.io.stdinIsTTY) {
    throw new UsageError(`${usage} asks before removing ${what}, and stdin is not a terminal: pass --yes to drop without asking`, ctx.command);
  }
  const answer = await ctx.io.ask(question);
  return answer !== undefined && /^\s*y(es)?\s*$/i.test(answer);
}

export async function drop(ctx: Context): Promise<void> {
  const target = ctx.inv.args[0];
  if (target === undefined) {
    throw new UsageError('drop needs NAME|PATH: the store to remove is always named, never taken from --use or $SPLINTER_STORE', 'drop');
  }
  const { kind, path: file } = resolveTarget(target);
  const where = kind === 'shm' ? `shared-memory store ${JSON.stringify(target)}` : `store file ${target}`;
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliFailure('ENOENT', `drop: ${where} does not exist (${file})`);
    throw new CliFailure('EACCES', `drop: cannot look at ${file} (${code ?? String(error)})`);
  }
  if (stat.isSymbolicLink()) throw new CliFailure('EINVAL', `drop: ${file} is a symbolic link: name the store itself`);
  if (!stat.isFile()) throw new CliFailure('EINVAL', `drop: ${file} is not a regular file, so not a store`);
  // A store, or what a creation that died left (no magic yet); never any other file.
  const state = storeFileState(file);
  if (state.kind === 'other') {
    throw new CliFailure('EINVAL', `drop: ${file} is not a Splinter store (it does not start with the format's magic); nothing removed`);
  }
  if (state.kind === 'unfinished' && state.inProgress) {
    throw new CliFailure(
      'EBUSY',
      `drop: ${file} has no store's magic yet and changed ${Math.round(state.ageMs)} ms ago: another process may be creating it ` +
        `right now; nothing removed (a creation that died can be dropped once untouched for ${CREATION_GRACE_MS / 1000} s)`,
    );
  }
  const unfinished = state.kind === 'unfinished' ? ', a creation that never finished: no magic' : '';
  const sideFiles = sideFilesOf(stat);
  const also = sideFiles.length === 0 ? '' : ` and ${sideFiles.length} side file${sideFiles.length === 1 ? '' : 's'}`;
  if (!(await confirmed(ctx, `drop ${where} (${file}, ${grouped(stat.size)} bytes${unfinished})${also}? [y/N] `))) {
    throw new CliFailure('ECANCELED', `drop: ${where} not dropped (answer y to drop it)`);
  }
  // This run's own handle goes first; other processes keep their mapping of the removed store.
  ctx.session.forget(target);
  if (ctx.session.current === target) ctx.session.current = undefined;
  Store.unlink(target);
  const left = sideFiles.filter(stillThere);
  const removed = sideFiles.filter((f) => !left.includes(f));
  if (left.length > 0) {
    throw new CliFailure(
      'EACCES',
      `drop: removed ${file}, but left ${left.length} side file${left.length === 1 ? '' : 's'} that another user owns or that is not of the kind splinter makes: ${left.join(', ')}`,
    );
  }
  if (ctx.json) {
    ctx.jsonOut({ dropped: target, path: file, sideFiles: removed });
    return;
  }
  const sides = removed.length === 0 ? '' : ` and ${removed.length} side file${removed.length === 1 ? '' : 's'}`;
  ctx.line(`dropped ${target}: removed ${file}${sides}`);
}
