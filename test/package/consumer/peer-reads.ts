/** The C peer opens a store a consumer script wrote and reads the keys: each value's hex, or the rc and errno of a failed get. */
import { Peer } from '../../helpers/peer.js';

export async function peerReads(target: string, keys: string[]): Promise<Record<string, string>> {
  const peer = Peer.open(target);
  try {
    await peer.ready;
    const read: Record<string, string> = {};
    for (const key of keys) {
      const answer = await peer.send({ op: 'get', key });
      read[key] = answer.rc === 0 ? String(answer['value_hex']) : `rc ${answer.rc} ${answer.errno ?? ''}`;
    }
    return read;
  } finally {
    await peer.close();
  }
}

/** The hex the peer answers for each value. */
export const asHex = (expected: Record<string, string | Uint8Array>): Record<string, string> =>
  Object.fromEntries(Object.entries(expected).map(([k, v]) => [k, Buffer.from(v).toString('hex')]));

/** What consumer/write-stores.mjs writes into the store it labels `label`. */
export const writtenBy = (label: 'shm' | 'file'): Record<string, string | Uint8Array> => ({
  'consumer/text': `written by a consumer, ${label} store`,
  'consumer/bytes': new Uint8Array([0, 1, 2, 254, 255]),
});
