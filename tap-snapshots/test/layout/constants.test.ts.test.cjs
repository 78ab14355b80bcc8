/* IMPORTANT
 * This snapshot file is auto-generated, but designed for humans.
 * It should be checked into source control and tracked carefully.
 * Re-generate by setting TAP_SNAPSHOT=1 and running tests.
 * Make sure to inspect the output below.  Do not ignore changes!
 */
'use strict'
exports[`test/layout/constants.test.ts > TAP > the constants table (a layout change shows in review) > layout constants 1`] = `
Object {
  "HEADER": Object {
    "alignment": 36,
    "bloom_watches": 56,
    "core_flags": 24,
    "dirty_mask": 4224,
    "epoch": 16,
    "last_failure_epoch": 48,
    "magic": 0,
    "max_val_sz": 12,
    "owner_fd": 4352,
    "owner_pid": 4356,
    "parse_failures": 40,
    "shard_bids": 4416,
    "signal_groups": 128,
    "size": 5440,
    "slots": 8,
    "user_flags": 25,
    "val_brk": 28,
    "val_sz": 32,
    "version": 4,
  },
  "Intent": Object {
    "DONTNEED": 4,
    "NONE": 0,
    "RANDOM": 3,
    "SEQUENTIAL": 2,
    "WILLNEED": 1,
  },
  "IntOp": Object {
    "AND": 0,
    "DEC": 5,
    "INC": 4,
    "NOT": 3,
    "OR": 1,
    "XOR": 2,
  },
  "KEY_MAX": 64,
  "Mop": Object {
    "FULL": 2,
    "HYBRID": 1,
    "OFF": 0,
  },
  "SHARD_BID": Object {
    "claimed_at": 24,
    "duration": 16,
    "intent": 8,
    "pid": 4,
    "priority": 9,
    "shard_id": 0,
  },
  "SLOT": Object {
    "atime": 48,
    "bloom": 56,
    "ctime": 40,
    "embedding": 128,
    "epoch": 8,
    "hash": 0,
    "key": 64,
    "type_flag": 24,
    "user_flag": 25,
    "val_len": 20,
    "val_off": 16,
    "watcher_mask": 32,
  },
  "SLOT_SIZE": 128,
  "SLOT_SIZE_EMBEDDINGS": 3200,
  "SlotType": Object {
    "AUDIO": 64,
    "BIGINT": 2,
    "BIGUINT": 4,
    "BINARY": 16,
    "IMGDATA": 32,
    "JSON": 8,
    "VARTEXT": 128,
    "VOID": 1,
  },
  "SPLINTER_MAGIC": 1397509716,
  "SPLINTER_VER": 4,
}
`
