/** import: loads an `export` document back into the store in use, checked whole before the first write. */
import { isSplinterError, SplinterError } from '../../errors.js';
import { SPLINTER_EMBED_DIM, SPLINTER_MAX_GROUPS } from '../../layout/constants.js';
import type { Store } from '../../facade/store.js';
import { escapeKey, type Key, keyIdentity } from '../../facade/inspect.js';
import type { Context } from '../context.js';
import { documentLimit, parseImportDocument, type ImportEntry } from '../import-document.js';
import { counted, grouped } from '../values.js';
import type { Handler } from './handler.js';

export const importStore: Handler = async (ctx) => {
  const store = ctx.store();
  const limit = documentLimit(store);
  const source = ctx.inv.args[0] ?? '-';
  const bytes = await ctx.inputAtMost(source, limit);
  if (bytes.length > limit) {
    throw new SplinterError(
      'EMSGSIZE',
      `an import document for this store (${store.slots} slots of at most ${store.maxValueSize} bytes) is at most ${grouped(limit)} bytes; ${source === '-' ? 'stdin' : source} holds more (reading stopped there)`,
    );
  }
  const doc = parseImportDocument(bytes, { slots: store.slots, maxValueSize: store.maxValueSize, embeddings: store.embeddings, prefix: ctx.prefix });

  const wanted = new Set(doc.entries.map((entry) => keyIdentity(entry.key)));
  const removed = ctx.flag('replace') ? namespaceKeys(ctx, store).filter((key) => !wanted.has(keyIdentity(key))) : [];
  const overwritten = doc.entries.filter((entry) => store.has(entry.key)).length;
  const created = doc.entries.length - overwritten;
  const after = store.count() - removed.length + created;
  if (after > store.slots) {
    throw new SplinterError('ENOSPC', `the store has ${counted(store.slots, 'slot')} and would hold ${counted(after, 'key')} after the import (${grouped(created)} new); nothing was written`);
  }
  const dryRun = ctx.flag('dry-run');
  if (!dryRun) {
    for (const key of removed) store.unset(key);
    doc.entries.forEach((entry, index) => {
      try {
        writeEntry(store, entry);
      } catch (error) {
        const what = `import stopped at keys[${index}] (${JSON.stringify(escapeKey(ctx.shown(entry.key)))}): ${grouped(index)} of ${counted(doc.entries.length, 'key')} were written`;
        if (isSplinterError(error)) throw new SplinterError(error.code, `${what}; ${error.message.replace(`${error.code}: `, '')}`, { cause: error });
        throw error;
      }
    });
    for (const [bit, group] of doc.labelGroups) store.watchLabelRegister(1n << BigInt(bit), group);
  }
  const counts = { imported: doc.entries.length, created, overwritten, removed: removed.length };
  if (ctx.json) {
    ctx.jsonOut({ ...counts, dryRun });
    return;
  }
  const removedNote = ctx.flag('replace') ? `, ${grouped(counts.removed)} removed` : '';
  const verb = dryRun ? 'would import' : 'imported';
  ctx.line(`${verb} ${grouped(counts.imported)} key${counts.imported === 1 ? '' : 's'} (${grouped(created)} new, ${grouped(overwritten)} overwritten${removedNote})`);
};

/** The keys of the namespace, each once (C may leave a copy of a key). */
function namespaceKeys(ctx: Context, store: Store): Key[] {
  const seen = new Set<string>();
  return store.keys().filter((key) => {
    const identity = keyIdentity(key);
    if (seen.has(identity) || !ctx.inNamespace(key)) return false;
    seen.add(identity);
    return true;
  });
}

const ZERO_EMBEDDING = new Float32Array(SPLINTER_EMBED_DIM);

/** The value, then the slot's type, labels, watcher groups and embedding as the document has them, the times last. */
function writeEntry(store: Store, entry: ImportEntry): void {
  const { key } = entry;
  const existed = store.has(key);
  store.set(key, entry.value);
  if (entry.typeFlag !== undefined && store.slotSnapshot(key)?.typeFlag !== entry.typeFlag) store.setNamedType(key, entry.typeFlag);
  const before = store.slotSnapshot(key);
  const labels = before?.bloom ?? 0n;
  if ((entry.labels & ~labels) !== 0n) store.setLabel(key, entry.labels & ~labels);
  if ((labels & ~entry.labels) !== 0n) store.unsetLabel(key, labels & ~entry.labels);
  const watchers = before?.watcherMask ?? 0n;
  for (let group = 0; group < SPLINTER_MAX_GROUPS; group++) {
    const bit = 1n << BigInt(group);
    if ((entry.watchers & bit) !== 0n && (watchers & bit) === 0n) store.watchRegister(key, group);
    if ((entry.watchers & bit) === 0n && (watchers & bit) !== 0n) store.watchUnregister(key, group);
  }
  if (store.embeddings && (entry.embedding !== undefined || existed)) store.setEmbedding(key, entry.embedding ?? ZERO_EMBEDDING);
  if (entry.ctime !== undefined) store.setSlotTime(key, 'ctime', entry.ctime);
  if (entry.atime !== undefined) store.setSlotTime(key, 'atime', entry.atime);
}
