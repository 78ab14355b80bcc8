/**
 * A separate Node process on a shared store:
 *   elector.ts TARGET claim ID PRIORITY INTENT DURATION   claims with its own pid and clock, prints {"pid","claimedAt"}
 *   elector.ts TARGET elect NOW                           prints the election at its own clock and at NOW
 */
import { Store, type Intent } from '../../../src/index.js';

const [target, command, ...args] = process.argv.slice(2);
const store = Store.open(target!);
const s = store.shards;
if (command === 'claim') {
  const [id, priority, intent, duration] = args;
  s.claim({ id: Number(id), priority: Number(priority), intent: Number(intent) as Intent, duration: BigInt(duration!) });
  const mine = s.table().find((r) => r.shardId === Number(id))!;
  process.stdout.write(JSON.stringify({ pid: process.pid, claimedAt: String(mine.claimedAt) }));
} else if (command === 'elect') {
  const own = s.election();
  const at = s.election(BigInt(args[0]!));
  process.stdout.write(JSON.stringify({ own: own ?? null, at: at ?? null }));
} else {
  throw new Error(`unknown command ${command}`);
}
store.close();
