/** The package's serve(): the gateway of src/serve/ with the doctor of the CLI for GET /v1/doctor (the gateway's layer is below it). */
import { SplinterError } from '../errors.js';
import type { Store } from '../facade/store.js';
import { serve as serveGateway, type Server, type ServeOptions } from '../serve/index.js';
export { readTokenFile } from '../serve/index.js';
import { resolveTarget } from '../facade/inspect.js';
import { diagnose } from './doctor.js';

/** How long the doctor samples again what looked wrong, as `splinter doctor` does by default. */
const DOCTOR_WAIT_MS = 100;

/** The diagnosis of the store's file, as `splinter doctor --json` prints it (no repair). */
export async function doctorJson(store: Store): Promise<unknown> {
  const target = store.target;
  if (target === undefined) throw new SplinterError('ENOTSUP', 'the doctor reads a store file or /dev/shm object; a SharedArrayBuffer store has none');
  const resolved = resolveTarget(target);
  const where = resolved.kind === 'shm' ? `shared-memory store ${JSON.stringify(target)}` : `store file ${target}`;
  const diagnosis = await diagnose(resolved.path, where, DOCTOR_WAIT_MS);
  return { target, ...diagnosis, ok: diagnosis.findings.every((f) => f.severity !== 'damage') };
}

/**
 * Serves a store over HTTP: the /v1 API, its OpenAPI document at /v1/openapi.json, Server-Sent Events (docs/serve.md).
 * @throws {SplinterError} EINVAL for a bad option; EPERM for a host that is not loopback without a token; what
 *   Store.open throws for a store given by name; EBUSY when the port is taken.
 */
export function serve(options: ServeOptions): Promise<Server> {
  return serveGateway({ doctor: doctorJson, ...options });
}
