import type { Advice, MappingRouteName } from './mapping/index.js';

/** Where a store's bytes live. Everything above this interface sees only `bytes`. */
export interface Backing {
  readonly kind: 'shm' | 'file' | 'shared';
  /** What names the same store in every process: "dev-ino" of the file; undefined in shared mode. */
  readonly identity: string | undefined;
  /** The mapping route of a shm or file store; undefined in shared mode. */
  readonly mapping: MappingRouteName | undefined;
  /** The whole store, header first. */
  readonly bytes: Uint8Array;
  /** Makes writes durable where that means something (file mode); a no-op elsewhere. */
  flush(): void;
  /** madvise on a range of the mapping; undefined where there is no mapping to advise. */
  readonly advise: ((offset: number, length: number, advice: Advice) => void) | undefined;
  /** Lets go of the bytes (flushing first in file mode): unmaps them; `bytes` must not be touched after. */
  release(): void;
}

/** A store living in a SharedArrayBuffer, shared between worker threads. */
export function sharedArrayBufferBacking(buffer: SharedArrayBuffer): Backing {
  return {
    kind: 'shared',
    identity: undefined,
    mapping: undefined,
    bytes: new Uint8Array(buffer),
    flush() {},
    advise: undefined,
    release() {},
  };
}
