/**
 * The Redis keys of one bridged namespace (one key prefix). All share one hash tag, so in a Redis
 * Cluster they live in one slot and the put script may touch them together.
 */

export interface NamespaceKeys {
  /** Hash: store key → record of its current value (or its unset). */
  readonly values: string;
  /** Stream of records, one entry per accepted change, trimmed to about `maxLength` entries. */
  readonly stream: string;
  /** A random id made when the namespace's data is created; a new one means Redis lost the data. */
  readonly generation: string;
}

/** `{` and `}` would end the hash tag early, `%` is the escape itself. */
function escapeTag(prefix: string): string {
  return prefix.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

export function namespaceKeys(prefix: string): NamespaceKeys {
  // "p:" keeps the tag non-empty for the empty prefix (an empty {} tag would hash the whole key).
  const base = `splinter:{p:${escapeTag(prefix)}}`;
  return { values: `${base}:values`, stream: `${base}:stream`, generation: `${base}:generation` };
}
