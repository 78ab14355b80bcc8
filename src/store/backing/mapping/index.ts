/**
 * Which mapping route a shm or file store uses: the one asked for (the `mapping` option, else
 * the SPLINTER_MAPPING environment variable), or the first that loads of koffi, then mmap-io.
 */
import { SplinterError } from '../../../errors.js';
import { KOFFI_PACKAGE, koffiRoute, loadKoffi } from './koffi.js';
import { loadMmapIo, MMAP_IO_PACKAGE, mmapIoRoute } from './mmap-io.js';
import { transientLoadFailure, type MappingRoute, type MappingRouteName } from './route.js';

export type { Advice, Mapping, MappingRoute, MappingRouteName } from './route.js';

export const MAPPING_ENV = 'SPLINTER_MAPPING';

interface RouteEntry {
  route: MappingRoute;
  load: () => unknown;
  install: string;
}

/** In the order tried when none is asked for. */
const ROUTES: readonly RouteEntry[] = [
  { route: koffiRoute, load: loadKoffi, install: `npm install ${KOFFI_PACKAGE} (prebuilt: no compiler needed)` },
  {
    route: mmapIoRoute,
    load: loadMmapIo,
    install: `npm install ${MMAP_IO_PACKAGE} (compiled at install for the running Node: python3, make and a C++ compiler)`,
  },
];

export const MAPPING_ROUTE_NAMES: readonly MappingRouteName[] = ROUTES.map((r) => r.route.name);

function firstLine(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}

/** Why a route cannot load here, or undefined when it can. */
function loadFailure(entry: RouteEntry): unknown {
  try {
    entry.load();
    return undefined;
  } catch (error) {
    return error ?? new Error('unknown failure');
  }
}

/** The route names that load on this machine, in the order they are tried. */
export function availableMappings(): MappingRouteName[] {
  return ROUTES.filter((entry) => loadFailure(entry) === undefined).map((entry) => entry.route.name);
}

/** A route name from the option or the environment; EINVAL naming where it came from. */
export function checkRouteName(value: unknown, from: string): MappingRouteName {
  if (typeof value !== 'string' || !(MAPPING_ROUTE_NAMES as readonly string[]).includes(value)) {
    const shown = typeof value === 'string' ? `"${value}"` : String(value);
    throw new SplinterError('EINVAL', `${from} is one of ${MAPPING_ROUTE_NAMES.map((n) => `'${n}'`).join(', ')}, received ${shown}`);
  }
  return value as MappingRouteName;
}

/** The route asked for, if any: the option wins over the environment variable. */
export function requestedRoute(option: MappingRouteName | undefined): MappingRouteName | undefined {
  if (option !== undefined) return option;
  const fromEnv = process.env[MAPPING_ENV];
  return fromEnv === undefined || fromEnv === '' ? undefined : checkRouteName(fromEnv, `the environment variable ${MAPPING_ENV}`);
}

/**
 * A route that failed for want of descriptors or memory at this moment: its own code (EMFILE,
 * ENOMEM, EAGAIN), never "install it", and the next open tries again.
 */
function transientFailure(entry: RouteEntry, error: unknown): SplinterError | undefined {
  const code = transientLoadFailure(error);
  if (code === undefined) return undefined;
  const shown = code === 'ENFILE' ? 'EMFILE' : code === 'EINTR' ? 'EAGAIN' : code;
  const reason = firstLine(error).startsWith(code) ? firstLine(error) : `${code}: ${firstLine(error)}`;
  return new SplinterError(
    shown === 'EMFILE' || shown === 'ENOMEM' ? shown : 'EAGAIN',
    `the '${entry.route.name}' mapping route could not be loaded just now (${reason}); ` +
      `it is installed: free some file descriptors or memory and retry`,
    { cause: error },
  );
}

/**
 * The route to map with: ENOTSUP, saying what to install, when none (or not the one asked for)
 * loads; EMFILE, ENOMEM or EAGAIN when the route failed to load for a reason of the moment.
 */
export function chooseRoute(option?: MappingRouteName): MappingRoute {
  const wanted = requestedRoute(option);
  if (wanted !== undefined) {
    const entry = ROUTES.find((r) => r.route.name === wanted)!;
    const error = loadFailure(entry);
    if (error === undefined) return entry.route;
    const transient = transientFailure(entry, error);
    if (transient !== undefined) throw transient;
    throw new SplinterError(
      'ENOTSUP',
      `the '${wanted}' mapping route was asked for and cannot be loaded here (${firstLine(error)}); ${entry.install}, ` +
        `or ask for no route to use whichever loads`,
      { cause: error },
    );
  }
  const failures: string[] = [];
  for (const entry of ROUTES) {
    const error = loadFailure(entry);
    if (error === undefined) return entry.route;
    // Not another route instead: the one that would load once the moment passes is the one to use.
    const transient = transientFailure(entry, error);
    if (transient !== undefined) throw transient;
    failures.push(`${entry.route.name}: ${firstLine(error)}`);
  }
  throw new SplinterError(
    'ENOTSUP',
    `shared-memory and file stores need a mapping route and none loads here (${failures.join('; ')}); ` +
      `${ROUTES[0]!.install}, or use Store.createShared() for a SharedArrayBuffer store`,
  );
}
