export { Store } from './facade/store.js';
export type { CreateGeometry, KeysOptions, SetJSONOptions, SetOptions, StoreOptions } from './facade/options.js';
export { escapeKey, unescapeKey, type Key } from './store/keys/key-text.js';
export type { HeaderSnapshot } from './store/format/header-decoder.js';
export type { SlotSnapshot, RawView } from './store/values/snapshot.js';
export { SplinterError, isSplinterError, type SplinterErrorCode } from './errors.js';
export { SlotType, IntOp, Intent, Mop, type SlotTypeName } from './layout/constants.js';
export type { Geometry } from './layout/geometry.js';
export { nativeMmapAvailable } from './store/backing/native-mmap.js';
export type { MappingRouteName } from './store/backing/mapping/index.js';
export type { LabelMatch } from './store/slot/labels.js';
export type { SearchHit, SearchOptions, SearchResults } from './store/search/index.js';
export type { SlotTime } from './store/slot/slot-meta.js';
export type {
  Shards,
  ShardBidSnapshot,
  ShardClaim,
  ShardRebid,
  ShardAdviceOptions,
  ShardElection,
} from './shard/shards.js';
export { calibratedClock, monotonicClock, SHARD_FOREVER, type ShardClock, type ClockPair } from './shard/clock.js';
export type { Advice } from './store/backing/native-mmap.js';
export type { KeyChange, PollOptions, WatchOptions } from './bus/watch.js';
export type { Stream, StreamOptions, RoomOptions, MessageType } from './stream/stream.js';
export type { StreamConsumer } from './stream/consumer.js';
export type { StreamEvent, StreamMessage, StreamGap, StreamMalformed } from './stream/events.js';
export type { SubscribeOptions, Subscription } from './stream/subscription.js';
export type { KeyHistory, HistoryEntry, HistoryOptions } from './stream/history.js';
export { Bridge, bridge, type BridgeStats, type BridgeEvent, type BridgeOptions } from './bridge/index.js';
export { serve } from './cli/gateway.js';
export { readTokenFile, type Server, type ServeOptions } from './serve/index.js';
export { keep, describeEvent, type Keeper, type KeepEvent, type KeepOptions, type ExpiredKey } from './keep/index.js';
