/** The mapping routes every backing test runs on, and why one cannot run here (a skip, never a pass). */
import { availableMappings } from '../../src/store/backing/mapping/index.js';
import { loadMmapIo } from '../../src/store/backing/mapping/mmap-io.js';
import type { MappingRouteName } from '../../src/store/backing/mapping/index.js';

export const ROUTES: readonly MappingRouteName[] = ['koffi', 'mmap-io'];

/**
 * Why `route` cannot be tested under this Node, or false when it can. koffi must always load.
 * The mmap-io addon is compiled at `npm ci` for the Node that ran it: under another Node
 * version it does not load (its per-ABI binary is missing, or "Module did not self-register"), and that
 * alone is a reason to skip; any other failure to load is a test failure.
 */
export function routeSkip(route: MappingRouteName): string | false {
  if (availableMappings().includes(route)) return false;
  if (route !== 'mmap-io') return false; // let the test fail on it
  try {
    loadMmapIo();
    return false;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // The three ways an addon built for another Node ABI fails: node-pre-gyp's per-ABI path, or the loader.
    if (/did not self-register|NODE_MODULE_VERSION|node-v\d+-linux-\w+\/mmap_io\.node/.test(message)) {
      return `the mmap-io addon was compiled for another Node than ${process.version} (${message.split('\n')[0]})`;
    }
    return false;
  }
}
