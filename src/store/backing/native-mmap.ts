/**
 * Mapping for callers that need no handle of their own (small side tables): the default route,
 * a mapping that lives as long as the returned Buffer. Stores map through ./mapping/.
 */
import { availableMappings, chooseRoute } from './mapping/index.js';
import { mapCollected } from './mapping/koffi.js';

export type { Advice } from './mapping/index.js';

/** True when shm and file stores can be mapped here (some mapping route loads). */
export function nativeMmapAvailable(): boolean {
  return availableMappings().length > 0;
}

/** Maps `size` bytes of `fd` shared and read-write. The mapping lives until the Buffer is collected. */
export function mapShared(fd: number, size: number): Buffer {
  const route = chooseRoute();
  if (route.name === 'koffi') return mapCollected(fd, size);
  const mapping = route.map(fd, size);
  // The mmap-io Buffer is unmapped by the addon when collected; the view keeps it alive.
  return Buffer.from(mapping.bytes.buffer, mapping.bytes.byteOffset, size);
}

/** The system page size, from the default route. */
export function pageSize(): number {
  return chooseRoute().pageSize();
}
