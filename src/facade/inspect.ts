/**
 * The CLI's one door into the library's internals: what `splinter` needs beyond the public Store
 * API, re-exported from the store core, the bus and streams so that src/cli/ imports none of them
 * directly (test/package/layering.test.ts enforces it). A new need of the CLI is added here, where
 * a maintainer sees at once everything the command reaches under the facade.
 */

// Keys as bytes: how the CLI reads them from arguments and prints them.
export { escapeKey, keyBytes, keyIdentity, keyOfBytes, unescapeKey, type Key } from '../store/keys/key-text.js';
export { tandemKey } from '../store/values/tandem.js';

// Where a store lives: names and paths, files a creation left unfinished, side files, the mapping.
export { resolveTarget, SHM_DIR } from '../store/backing/target.js';
export { CREATION_GRACE_MS, storeFileState } from '../store/backing/file-backing.js';
export { sidecarPath } from '../bus/sidecar.js';
export { nativeMmapAvailable } from '../store/backing/native-mmap.js';

// Types the commands print or pass on.
export type { SlotSnapshot } from '../store/values/snapshot.js';
export type { SearchOptions } from '../store/search/index.js';

// Raw reads of a store's bytes that trust nothing (scan.ts: doctor, stats).
export { decodeHeader, type HeaderSnapshot } from '../store/format/header-decoder.js';
export { decodeSlot, type DecodedSlot } from '../store/format/slot-decoder.js';
export { shorterThanHeader } from '../store/format/validate.js';
export { wordsOf, type StoreWords } from '../store/format/words.js';

// Repairs under the seqlock (internal.ts: doctor --repair).
export { clearLocked } from '../store/values/clear.js';
export { findKey, slotHoldsKey } from '../store/keys/probe.js';
export { tryLock, unlock } from '../store/sync/seqlock.js';

// Streams: the convention's names and limits, and the types of what a stream reader gets.
export { checkStreamName, consumerKey, MAX_SEQ } from '../stream/layout.js';
export type { MessageType, Stream } from '../stream/stream.js';
export type { StreamConsumer } from '../stream/consumer.js';
export type { StreamEvent } from '../stream/events.js';
