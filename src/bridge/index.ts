export { Bridge, bridge, type BridgeStats } from './loop.js';
export type { BridgeEvent, BridgeOptions } from './options.js';
