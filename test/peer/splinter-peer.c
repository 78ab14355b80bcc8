/*
 * splinter-peer: a stand-in for libsplinter 1.2.0 (store format version 4),
 * driven by JSON lines on stdin, used by the splinter-ts tests to prove
 * byte-level and concurrent interop with a C process.
 *
 * Written from docs/spec/FORMAT.md (the format contract), not from the
 * libsplinter sources. It deliberately reproduces the C library's behaviour,
 * quirks included (docs/spec/FORMAT.md section 9: Q1, Q3, Q4, Q5, Q7), because it stands
 * in for the C library. See README.md beside this file for the protocol.
 *
 * Build: node test/peer/build.mjs  (cc -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE)
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Layout (docs/spec/FORMAT.md sections 2 and 3)                             */
/* ------------------------------------------------------------------------ */

#define SPL_MAGIC 0x534C4E54u
#define SPL_VERSION 4u
#define HDR_SIZE 5440u
#define SLOT_BASE 128u
#define EMBED_DIM 768u
#define SLOT_EMBED (SLOT_BASE + EMBED_DIM * 4u)
#define KEY_MAX 64u
#define N_GROUPS 64u
#define N_BIDS 32u

#define CF_AUTO_SCRUB 0x01u
#define CF_HYBRID_SCRUB 0x02u

#define T_VOID 1u
#define T_BIGUINT 4u
#define T_BINARY 16u

struct shard_bid {
    _Atomic uint32_t shard_id; /* 0 = free record, claimed by CAS */
    uint32_t pid;
    uint8_t intent;
    uint8_t priority;
    uint8_t pad[6];
    uint64_t duration;
    uint64_t claimed_at;
};

struct signal_group {
    _Atomic uint64_t count; /* one counter per 64-byte line */
    uint8_t pad[56];
};

struct header {
    uint32_t magic;
    uint32_t version;
    uint32_t slots;
    uint32_t max_val_sz;
    _Atomic uint64_t epoch;
    _Atomic uint8_t core_flags;
    _Atomic uint8_t user_flags;
    uint8_t pad0[2];
    _Atomic uint32_t val_brk;
    uint32_t val_sz;
    uint32_t alignment;
    _Atomic uint64_t parse_failures;
    _Atomic uint64_t last_failure_epoch;
    _Atomic uint8_t bloom_watches[64];
    uint8_t pad1[8];
    struct signal_group signal_groups[N_GROUPS];
    _Atomic uint64_t dirty_mask[16];
    _Atomic int32_t owner_fd;
    _Atomic int32_t owner_pid;
    uint8_t pad2[56];
    struct shard_bid bids[N_BIDS];
};

struct slot {
    _Atomic uint64_t hash; /* 0 = empty */
    _Atomic uint64_t epoch; /* seqlock: odd = writer inside */
    uint32_t val_off;
    _Atomic uint32_t val_len;
    _Atomic uint8_t type_flag;
    _Atomic uint8_t user_flag;
    uint8_t pad[6];
    _Atomic uint64_t watcher_mask;
    _Atomic uint64_t ctime;
    _Atomic uint64_t atime;
    _Atomic uint64_t bloom;
    char key[KEY_MAX];
};

/* The offsets docs/spec/FORMAT.md measured on the C structures; a mismatch is a build error. */
_Static_assert(sizeof(struct shard_bid) == 32, "bid record size");
_Static_assert(offsetof(struct shard_bid, duration) == 16, "bid duration");
_Static_assert(offsetof(struct header, epoch) == 16, "hdr epoch");
_Static_assert(offsetof(struct header, core_flags) == 24, "hdr core_flags");
_Static_assert(offsetof(struct header, val_brk) == 28, "hdr val_brk");
_Static_assert(offsetof(struct header, val_sz) == 32, "hdr val_sz");
_Static_assert(offsetof(struct header, alignment) == 36, "hdr alignment");
_Static_assert(offsetof(struct header, parse_failures) == 40, "hdr parse_failures");
_Static_assert(offsetof(struct header, bloom_watches) == 56, "hdr bloom_watches");
_Static_assert(offsetof(struct header, signal_groups) == 128, "hdr signal_groups");
_Static_assert(offsetof(struct header, dirty_mask) == 4224, "hdr dirty_mask");
_Static_assert(offsetof(struct header, owner_fd) == 4352, "hdr owner_fd");
_Static_assert(offsetof(struct header, owner_pid) == 4356, "hdr owner_pid");
_Static_assert(offsetof(struct header, bids) == 4416, "hdr bids");
_Static_assert(sizeof(struct header) == HDR_SIZE, "header size");
_Static_assert(offsetof(struct slot, val_off) == 16, "slot val_off");
_Static_assert(offsetof(struct slot, type_flag) == 24, "slot type_flag");
_Static_assert(offsetof(struct slot, watcher_mask) == 32, "slot watcher_mask");
_Static_assert(offsetof(struct slot, bloom) == 56, "slot bloom");
_Static_assert(offsetof(struct slot, key) == 64, "slot key");
_Static_assert(sizeof(struct slot) == SLOT_BASE, "slot size");

/* ------------------------------------------------------------------------ */
/* The open store                                                            */
/* ------------------------------------------------------------------------ */

static struct {
    uint8_t *base;
    size_t size; /* bytes mapped = file size */
    int fd;
    bool is_path; /* persistent file: msync on exit */
    bool emb; /* embeddings build (slot size 3200) */
    struct header *H;
    uint32_t slots;
    uint32_t maxv;
    size_t slot_sz;
    uint8_t *arena;
    size_t arena_sz; /* slots * max_val_sz */
    size_t arena_room; /* bytes from the arena start to the end of the mapping */
} st;

static inline struct slot *slot_at(uint32_t i) {
    return (struct slot *)(st.base + HDR_SIZE + (size_t)i * st.slot_sz);
}

static inline uint8_t *embedding_of(struct slot *s) { return (uint8_t *)s + SLOT_BASE; }

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static uint64_t key_hash(const char *key) { return fnv1a((const uint8_t *)key, strlen(key)); }

/* C's strncmp(slot->key, key, 64) == 0: the stored bytes equal key + NUL within 64 bytes. */
static bool key_equal(const struct slot *s, const char *key) {
    for (size_t i = 0; i < KEY_MAX; i++) {
        if (s->key[i] != key[i]) return false;
        if (key[i] == '\0') return true;
    }
    return true;
}

static bool slot_matches(struct slot *s, uint64_t h, const char *key) {
    return atomic_load_explicit(&s->hash, memory_order_acquire) == h && key_equal(s, key);
}

/* "Find": first matching slot on the linear probe path from hash mod slots; -1 on a miss. */
static long find_slot(const char *key) {
    uint64_t h = key_hash(key);
    uint32_t start = (uint32_t)(h % st.slots);
    for (uint32_t i = 0; i < st.slots; i++) {
        uint32_t idx = (uint32_t)(((uint64_t)start + i) % st.slots);
        if (slot_matches(slot_at(idx), h, key)) return (long)idx;
    }
    return -1;
}

/* Take a slot's seqlock: CAS an even epoch e to e+1. */
static bool seq_lock(struct slot *s) {
    uint64_t e = atomic_load_explicit(&s->epoch, memory_order_relaxed);
    if (e & 1u) return false;
    return atomic_compare_exchange_strong_explicit(&s->epoch, &e, e + 1, memory_order_acq_rel,
                                                   memory_order_relaxed);
}

static void seq_unlock(struct slot *s) { atomic_fetch_add_explicit(&s->epoch, 1, memory_order_release); }

static void global_bump(void) { atomic_fetch_add_explicit(&st.H->epoch, 1, memory_order_relaxed); }

/* The peer never arms the event bus, so "notify" (docs/spec/FORMAT.md section 7) is always a no-op. */
static void notify(uint32_t idx) { (void)idx; }

/* Pulse: one count per watcher_mask bit, and one per bloom bit whose label is watched. */
static void pulse(struct slot *s) {
    uint64_t wm = atomic_load_explicit(&s->watcher_mask, memory_order_acquire);
    for (; wm; wm &= wm - 1) /* visit set bits only: most slots have none */
        atomic_fetch_add_explicit(&st.H->signal_groups[__builtin_ctzll(wm)].count, 1, memory_order_release);
    uint64_t bl = atomic_load_explicit(&s->bloom, memory_order_acquire);
    for (; bl; bl &= bl - 1) {
        uint8_t g = atomic_load_explicit(&st.H->bloom_watches[__builtin_ctzll(bl)], memory_order_acquire);
        if (g < N_GROUPS)
            atomic_fetch_add_explicit(&st.H->signal_groups[g].count, 1, memory_order_release);
    }
}

/* Clamp a byte range at arena+off to the mapping, so a corrupt offset cannot crash the peer (C would). */
static size_t clamp_room(size_t off, size_t len) {
    if (off >= st.arena_room) return 0;
    return len > st.arena_room - off ? st.arena_room - off : len;
}

static void zero_arena(size_t off, size_t len) {
    len = clamp_room(off, len);
    if (len) memset(st.arena + off, 0, len);
}

/* get_mop decoding: bit1 -> 1 (hybrid), else bit0 -> 2 (full), else 0. */
static int mop_mode(void) {
    uint8_t f = atomic_load_explicit(&st.H->core_flags, memory_order_acquire);
    if (f & CF_HYBRID_SCRUB) return 1;
    if (f & CF_AUTO_SCRUB) return 2;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Operations with C semantics (docs/spec/FORMAT.md section 7). Return the   */
/* C rc and set *eno to the errno the C call would leave (0 on success).     */
/* ------------------------------------------------------------------------ */

static int op_set(const char *key, const uint8_t *val, size_t len, int *eno) {
    if (len == 0) { *eno = EINVAL; return -1; }
    if (len > st.maxv) { *eno = EMSGSIZE; return -1; }
    uint64_t h = key_hash(key);
    uint32_t start = (uint32_t)(h % st.slots);
    for (uint32_t i = 0; i < st.slots; i++) {
        uint32_t idx = (uint32_t)(((uint64_t)start + i) % st.slots);
        struct slot *s = slot_at(idx);
        uint64_t sh = atomic_load_explicit(&s->hash, memory_order_acquire);
        /* Q1: the first slot that is empty OR matches is taken; odd or lost slots are skipped. */
        if (!(sh == 0 || (sh == h && key_equal(s, key)))) continue;
        if (!seq_lock(s)) continue;
        if ((size_t)s->val_off + len > st.arena_sz) {
            seq_unlock(s);
            *eno = EMSGSIZE;
            return -1;
        }
        int mode = mop_mode();
        if (mode == 1) {
            size_t z = (len + 63u) & ~(size_t)63u;
            zero_arena(s->val_off, z < st.maxv ? z : st.maxv);
        } else if (mode == 2) {
            zero_arena(s->val_off, st.maxv);
        }
        memcpy(st.arena + s->val_off, val, len);
        atomic_store_explicit(&s->val_len, (uint32_t)len, memory_order_release);
        if (st.emb && sh == 0) memset(embedding_of(s), 0, EMBED_DIM * 4u);
        /* strncpy(key, 63) semantics: key bytes, then zeros through all 64 bytes. */
        size_t kl = strlen(key);
        if (kl > KEY_MAX - 1) kl = KEY_MAX - 1;
        memcpy(s->key, key, kl);
        memset(s->key + kl, 0, KEY_MAX - kl);
        atomic_thread_fence(memory_order_release);
        atomic_store_explicit(&s->hash, h, memory_order_release);
        seq_unlock(s);
        pulse(s);
        global_bump();
        notify(idx);
        *eno = 0;
        return 0;
    }
    *eno = ENOSPC;
    return -1;
}

/* One seqlock read attempt of the value; *out must hold st.maxv bytes. */
static int op_get(const char *key, uint8_t *out, size_t *out_len, int *eno) {
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    struct slot *s = slot_at((uint32_t)idx);
    uint64_t e1 = atomic_load_explicit(&s->epoch, memory_order_acquire);
    if (e1 & 1u) { *eno = EAGAIN; return -1; }
    size_t len = atomic_load_explicit(&s->val_len, memory_order_acquire);
    if (len > st.maxv) { *eno = EMSGSIZE; return -1; }
    if (clamp_room(s->val_off, len) != len) { *eno = EINVAL; return -1; }
    memcpy(out, st.arena + s->val_off, len);
    atomic_thread_fence(memory_order_acquire);
    uint64_t e2 = atomic_load_explicit(&s->epoch, memory_order_acquire);
    if (e1 != e2 || (e2 & 1u)) { *eno = EAGAIN; return -1; }
    *out_len = len;
    *eno = 0;
    return 0;
}

/* Q7: unset takes no seqlock, resets the epoch to 0 then adds 2, no pulse, no global epoch. */
static int op_unset(const char *key, int *eno) {
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    struct slot *s = slot_at((uint32_t)idx);
    if (atomic_load_explicit(&s->epoch, memory_order_acquire) & 1u) { *eno = EAGAIN; return -1; }
    int old = (int)atomic_load_explicit(&s->val_len, memory_order_acquire);
    atomic_store_explicit(&s->hash, 0, memory_order_release);
    if (atomic_load_explicit(&st.H->core_flags, memory_order_acquire) & CF_AUTO_SCRUB) {
        zero_arena(s->val_off, st.maxv);
        memset(s->key, 0, KEY_MAX);
    } else {
        s->key[0] = '\0';
    }
    atomic_store_explicit(&s->type_flag, T_VOID, memory_order_release);
    atomic_store_explicit(&s->epoch, 0, memory_order_release);
    atomic_store_explicit(&s->val_len, 0, memory_order_release);
    if (st.emb) memset(embedding_of(s), 0, EMBED_DIM * 4u);
    atomic_store_explicit(&s->ctime, 0, memory_order_release);
    atomic_store_explicit(&s->atime, 0, memory_order_release);
    atomic_store_explicit(&s->user_flag, 0, memory_order_release);
    atomic_store_explicit(&s->watcher_mask, 0, memory_order_release);
    atomic_store_explicit(&s->bloom, 0, memory_order_release);
    atomic_fetch_add_explicit(&s->epoch, 2, memory_order_release);
    *eno = 0;
    return old;
}

static int op_append(const char *key, const uint8_t *data, size_t dlen, uint32_t *new_len, int *eno) {
    *new_len = 0;
    if (dlen == 0) { *eno = EINVAL; return -2; }
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    struct slot *s = slot_at((uint32_t)idx);
    if (!seq_lock(s)) { *eno = EAGAIN; return -1; }
    uint32_t len = atomic_load_explicit(&s->val_len, memory_order_acquire);
    if ((size_t)len + dlen > st.maxv) {
        seq_unlock(s);
        *eno = EMSGSIZE;
        return -1;
    }
    size_t off = (size_t)s->val_off + len;
    if (clamp_room(off, dlen) != dlen) { seq_unlock(s); *eno = EINVAL; return -1; }
    memcpy(st.arena + off, data, dlen);
    atomic_store_explicit(&s->val_len, len + (uint32_t)dlen, memory_order_release);
    seq_unlock(s);
    pulse(s);
    global_bump();
    notify((uint32_t)idx);
    *new_len = len + (uint32_t)dlen;
    *eno = 0;
    return 0;
}

static void sleep_ms(uint64_t ms) {
    struct timespec ts = {(time_t)(ms / 1000u), (long)((ms % 1000u) * 1000000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Q5: 10 ms sleep steps; while the epoch is odd the deadline is not checked. */
static int op_poll(const char *key, uint64_t timeout_ms, int *eno) {
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    struct slot *s = slot_at((uint32_t)idx);
    uint64_t start = atomic_load_explicit(&s->epoch, memory_order_acquire);
    if (start & 1u) { *eno = EAGAIN; return -1; }
    uint64_t deadline = mono_ns() + timeout_ms * 1000000ULL;
    for (;;) {
        uint64_t cur = atomic_load_explicit(&s->epoch, memory_order_acquire);
        if (cur & 1u) { sleep_ms(10); continue; }
        if (cur != start) { *eno = 0; return 0; }
        if (mono_ns() >= deadline) { *eno = ETIMEDOUT; return -1; }
        sleep_ms(10);
    }
}

static int op_set_mop(uint64_t mode, int *eno) {
    switch (mode) {
    case 0: atomic_fetch_and(&st.H->core_flags, (uint8_t)~(CF_AUTO_SCRUB | CF_HYBRID_SCRUB)); break;
    case 1: atomic_fetch_or(&st.H->core_flags, (uint8_t)(CF_AUTO_SCRUB | CF_HYBRID_SCRUB)); break;
    case 2: atomic_fetch_or(&st.H->core_flags, (uint8_t)CF_AUTO_SCRUB); break; /* Q4: HYBRID kept */
    default: *eno = EINVAL; return -1;
    }
    *eno = 0;
    return 0;
}

static void op_purge(void) {
    for (uint32_t i = 0; i < st.slots; i++) {
        struct slot *s = slot_at(i);
        if (!seq_lock(s)) continue;
        if (atomic_load_explicit(&s->hash, memory_order_acquire) == 0) {
            zero_arena(s->val_off, st.maxv);
        } else {
            uint32_t len = atomic_load_explicit(&s->val_len, memory_order_acquire);
            if (len < st.maxv) zero_arena((size_t)s->val_off + len, st.maxv - len);
        }
        seq_unlock(s);
    }
}

/* strtoull(s, 0, 0) over a value shorter than 8 bytes, or its raw little-endian bytes (Q3). */
static uint64_t short_value_as_u64(const uint8_t *p, size_t len) {
    uint64_t v = 0;
    if (len > 0 && p[0] >= '0' && p[0] <= '9') {
        char buf[16];
        memcpy(buf, p, len);
        buf[len] = '\0';
        v = strtoull(buf, NULL, 0);
    } else {
        uint8_t le[8] = {0};
        memcpy(le, p, len);
        for (int i = 7; i >= 0; i--) v = (v << 8) | le[i];
    }
    return v;
}

static void put_u64le(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64le(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int op_set_named_type(const char *key, uint64_t mask, int *eno) {
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    struct slot *s = slot_at((uint32_t)idx);
    if (!seq_lock(s)) { *eno = EAGAIN; return -1; }
    uint32_t len = atomic_load_explicit(&s->val_len, memory_order_acquire);
    if ((mask & T_BIGUINT) && len < 8) {
        /* Q3: allocate from val_brk (starts at 0), bound-checked against the file size. */
        uint32_t off = atomic_fetch_add_explicit(&st.H->val_brk, 8, memory_order_acq_rel);
        if ((uint64_t)off + 8 > st.H->val_sz || clamp_room(off, 8) != 8) {
            seq_unlock(s);
            *eno = ENOMEM;
            return -1;
        }
        uint8_t old[8] = {0};
        memcpy(old, st.arena + s->val_off, clamp_room(s->val_off, len));
        put_u64le(st.arena + off, short_value_as_u64(old, len));
        s->val_off = off;
        atomic_store_explicit(&s->val_len, 8, memory_order_release);
    }
    atomic_store_explicit(&s->type_flag, (uint8_t)mask, memory_order_release);
    seq_unlock(s);
    global_bump();
    notify((uint32_t)idx);
    *eno = 0;
    return 0;
}

static int op_integer_op(const char *key, uint64_t op, uint64_t operand, int *eno) {
    if (op > 5) { *eno = EINVAL; return -2; }
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    struct slot *s = slot_at((uint32_t)idx);
    if (!(atomic_load_explicit(&s->type_flag, memory_order_acquire) & T_BIGUINT)) {
        *eno = EPROTOTYPE;
        return -1;
    }
    if (!seq_lock(s)) { *eno = EAGAIN; return -1; }
    if (clamp_room(s->val_off, 8) != 8) { seq_unlock(s); *eno = EINVAL; return -1; }
    uint8_t *p = st.arena + s->val_off;
    uint64_t v = get_u64le(p);
    switch (op) {
    case 0: v &= operand; break;
    case 1: v |= operand; break;
    case 2: v ^= operand; break;
    case 3: v = ~v; break;
    case 4: v += operand; break;
    default: v -= operand; break;
    }
    put_u64le(p, v);
    seq_unlock(s);
    global_bump();
    notify((uint32_t)idx);
    *eno = 0;
    return 0;
}

static int op_set_slot_time(const char *key, uint64_t mode, uint64_t t, uint64_t offset, int *eno) {
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    struct slot *s = slot_at((uint32_t)idx);
    if (atomic_load_explicit(&s->epoch, memory_order_acquire) & 1u) { *eno = EAGAIN; return -1; }
    if (mode == 0) atomic_store_explicit(&s->ctime, t - offset, memory_order_release);
    else if (mode == 1) atomic_store_explicit(&s->atime, t - offset, memory_order_release);
    else { *eno = ENOTSUP; return -2; }
    *eno = 0;
    return 0;
}

static int op_bump(const char *key, int *eno) {
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    struct slot *s = slot_at((uint32_t)idx);
    if (!seq_lock(s)) { *eno = EAGAIN; return -1; }
    pulse(s);
    seq_unlock(s);
    *eno = 0;
    return 0;
}

/* Stores (not CASes) the epoch, which is how a slot stuck odd by a dead writer is freed. */
static int op_retrain(const char *key, int *eno) {
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    struct slot *s = slot_at((uint32_t)idx);
    atomic_store_explicit(&s->epoch, 3, memory_order_release);
    if (st.emb) memset(embedding_of(s), 0, EMBED_DIM * 4u);
    atomic_store_explicit(&s->epoch, 4, memory_order_release);
    global_bump();
    pulse(s);
    notify((uint32_t)idx);
    *eno = 0;
    return 0;
}

static int op_label(const char *key, uint64_t mask, bool set, int *eno) {
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    struct slot *s = slot_at((uint32_t)idx);
    if (set) atomic_fetch_or_explicit(&s->bloom, mask, memory_order_acq_rel);
    else atomic_fetch_and_explicit(&s->bloom, ~mask, memory_order_acq_rel);
    global_bump();
    notify((uint32_t)idx);
    *eno = 0;
    return 0;
}

static int op_watch(const char *key, uint64_t group, bool reg, int *eno) {
    if (group >= N_GROUPS) { *eno = EINVAL; return -2; }
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    struct slot *s = slot_at((uint32_t)idx);
    if (reg) atomic_fetch_or_explicit(&s->watcher_mask, 1ULL << group, memory_order_acq_rel);
    else atomic_fetch_and_explicit(&s->watcher_mask, ~(1ULL << group), memory_order_acq_rel);
    *eno = 0;
    return 0;
}

static void op_watch_label(uint64_t mask, uint8_t group) {
    for (unsigned b = 0; b < 64; b++)
        if (mask & (1ULL << b)) atomic_store_explicit(&st.H->bloom_watches[b], group, memory_order_release);
}

static int op_pulse_keygroup(const char *key, int *eno) {
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    pulse(slot_at((uint32_t)idx));
    *eno = 0;
    return 0;
}

/* Probes from slot 0, not from the key's start slot; no epoch change. */
static int op_set_as_system(const char *key, int *eno) {
    uint64_t h = key_hash(key);
    for (uint32_t i = 0; i < st.slots; i++) {
        struct slot *s = slot_at(i);
        if (!slot_matches(s, h, key)) continue;
        atomic_store_explicit(&s->type_flag, T_BINARY, memory_order_release);
        atomic_store_explicit(&s->val_len, st.maxv, memory_order_release);
        *eno = 0;
        return 0;
    }
    *eno = ENOENT;
    return -1;
}

static int op_set_embedding(const char *key, const float *vec, int *eno) {
    if (!st.emb) { *eno = ENOTSUP; return -1; }
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    struct slot *s = slot_at((uint32_t)idx);
    if (!seq_lock(s)) { *eno = EAGAIN; return -1; }
    memcpy(embedding_of(s), vec, EMBED_DIM * 4u);
    atomic_thread_fence(memory_order_release);
    seq_unlock(s);
    global_bump();
    notify((uint32_t)idx);
    *eno = 0;
    return 0;
}

static int op_get_embedding(const char *key, uint8_t *out, int *eno) {
    if (!st.emb) { *eno = ENOTSUP; return -1; }
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    struct slot *s = slot_at((uint32_t)idx);
    uint64_t e1 = atomic_load_explicit(&s->epoch, memory_order_acquire);
    if (e1 & 1u) { *eno = EAGAIN; return -1; }
    memcpy(out, embedding_of(s), EMBED_DIM * 4u);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&s->epoch, memory_order_acquire) != e1) { *eno = EAGAIN; return -1; }
    *eno = 0;
    return 0;
}

/* What splinter_get_slot_snapshot copies out of a slot. */
struct slot_snapshot {
    uint32_t index;
    uint64_t hash, epoch, watcher_mask, ctime, atime, bloom;
    uint32_t val_off, val_len;
    uint8_t type_flag, user_flag;
    char key[KEY_MAX];
};

/* Copies slot i's fields between two epoch loads until the epoch is even and unchanged, at most `tries`
   times (so a slot held odd still answers); false when no try was consistent (*out holds the last one). */
static bool snapshot_slot(uint32_t i, struct slot_snapshot *out, int tries) {
    struct slot *s = slot_at(i);
    out->index = i;
    for (int t = 0; t < tries; t++) {
        uint64_t e1 = atomic_load_explicit(&s->epoch, memory_order_acquire);
        out->epoch = e1;
        out->hash = atomic_load_explicit(&s->hash, memory_order_acquire);
        out->val_off = s->val_off;
        out->val_len = atomic_load_explicit(&s->val_len, memory_order_acquire);
        out->type_flag = atomic_load_explicit(&s->type_flag, memory_order_acquire);
        out->user_flag = atomic_load_explicit(&s->user_flag, memory_order_acquire);
        out->watcher_mask = atomic_load_explicit(&s->watcher_mask, memory_order_acquire);
        out->ctime = atomic_load_explicit(&s->ctime, memory_order_acquire);
        out->atime = atomic_load_explicit(&s->atime, memory_order_acquire);
        out->bloom = atomic_load_explicit(&s->bloom, memory_order_acquire);
        memcpy(out->key, s->key, KEY_MAX);
        atomic_thread_fence(memory_order_acquire);
        if (!(e1 & 1u) && atomic_load_explicit(&s->epoch, memory_order_acquire) == e1) return true;
    }
    return false;
}

/* splinter_get_slot_snapshot: find, then a consistent copy of the slot's fields. C retries without
   bound; the peer gives up with EAGAIN after 100 000 tries (a slot held odd by a dead writer). */
static int op_get_slot_snapshot(const char *key, struct slot_snapshot *out, int *eno) {
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return -1; }
    if (!snapshot_slot((uint32_t)idx, out, 100000)) { *eno = EAGAIN; return -1; }
    *eno = 0;
    return 0;
}

/* splinter_get_raw_ptr: the value's address in the mapping, its length and the slot epoch; no copy and
   no check, as in C, except that a value reaching past the mapping is refused (EINVAL) instead of read. */
static uint8_t *op_get_raw_ptr(const char *key, size_t *len, uint64_t *epoch, int *eno) {
    long idx = find_slot(key);
    if (idx < 0) { *eno = ENOENT; return NULL; }
    struct slot *s = slot_at((uint32_t)idx);
    *epoch = atomic_load_explicit(&s->epoch, memory_order_acquire);
    *len = atomic_load_explicit(&s->val_len, memory_order_acquire);
    if (clamp_room(s->val_off, *len) != *len) { *eno = EINVAL; return NULL; }
    *eno = 0;
    return st.arena + s->val_off;
}

/* ---- Logic Shard bids (docs/spec/FORMAT.md section 8) ---- */

/* The shard clock: CLOCK_MONOTONIC ns by default; "cycles" switches to the CPU counter the C
 * library itself uses (rdtsc on x86-64, cntvct_el0 on arm64), so tests can mix clock domains. */
static bool shard_cycles = false;

static bool cycles_available(void) {
#if defined(__x86_64__) || defined(__aarch64__)
    return true;
#else
    return false;
#endif
}

static uint64_t cycles_now(void) {
#if defined(__x86_64__)
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
    return v;
#else
    return mono_ns();
#endif
}

static uint64_t shard_now(void) { return shard_cycles ? cycles_now() : mono_ns(); }

static int shard_claim_ex(uint32_t id, uint32_t pid, uint8_t intent, uint8_t prio, uint64_t duration,
                          uint64_t claimed_at, int *eno) {
    if (id == 0) { *eno = EINVAL; return -2; }
    struct shard_bid *rec = NULL;
    for (unsigned i = 0; i < N_BIDS && !rec; i++)
        if (atomic_load_explicit(&st.H->bids[i].shard_id, memory_order_acquire) == id) rec = &st.H->bids[i];
    for (unsigned i = 0; i < N_BIDS && !rec; i++) {
        uint32_t zero = 0;
        if (atomic_compare_exchange_strong_explicit(&st.H->bids[i].shard_id, &zero, id, memory_order_acq_rel,
                                                    memory_order_relaxed))
            rec = &st.H->bids[i];
    }
    if (!rec) { *eno = ENOSPC; return -1; }
    rec->pid = pid;
    rec->intent = intent;
    rec->priority = prio;
    rec->duration = duration;
    rec->claimed_at = claimed_at;
    atomic_thread_fence(memory_order_release);
    *eno = 0;
    return 0;
}

static struct shard_bid *shard_find(uint32_t id) {
    for (unsigned i = 0; i < N_BIDS; i++)
        if (atomic_load_explicit(&st.H->bids[i].shard_id, memory_order_acquire) == id) return &st.H->bids[i];
    return NULL;
}

static int shard_rebid(uint32_t id, uint8_t intent, uint8_t prio, uint64_t duration, int *eno) {
    if (id == 0) { *eno = EINVAL; return -2; }
    struct shard_bid *rec = shard_find(id);
    if (!rec) { *eno = ENOENT; return -1; }
    rec->intent = intent;
    rec->priority = prio;
    rec->duration = duration;
    rec->claimed_at = shard_now();
    atomic_thread_fence(memory_order_release);
    *eno = 0;
    return 0;
}

static int shard_release(uint32_t id, int *eno) {
    if (id == 0) { *eno = EINVAL; return -2; }
    struct shard_bid *rec = shard_find(id);
    if (!rec) { *eno = ENOENT; return -1; }
    rec->pid = 0;
    rec->intent = 0;
    rec->priority = 0;
    rec->duration = 0;
    rec->claimed_at = 0;
    atomic_store_explicit(&rec->shard_id, 0, memory_order_release); /* last, for concurrent elections */
    *eno = 0;
    return 0;
}

static bool bid_live(const struct shard_bid *b, uint32_t id, uint64_t now) {
    return id != 0 && now - b->claimed_at < b->duration;
}

/* Returns the winning record or NULL. */
static struct shard_bid *shard_election(uint64_t now) {
    bool urgent = false; /* a live WILLNEED or SEQUENTIAL bid shuts DONTNEED out */
    for (unsigned i = 0; i < N_BIDS; i++) {
        struct shard_bid *b = &st.H->bids[i];
        uint32_t id = atomic_load_explicit(&b->shard_id, memory_order_acquire);
        if (bid_live(b, id, now) && (b->intent == 1 || b->intent == 2)) urgent = true;
    }
    struct shard_bid *best = NULL;
    for (unsigned i = 0; i < N_BIDS; i++) {
        struct shard_bid *b = &st.H->bids[i];
        uint32_t id = atomic_load_explicit(&b->shard_id, memory_order_acquire);
        if (!bid_live(b, id, now)) continue;
        if (urgent && b->intent == 4) continue;
        if (!best || b->priority > best->priority ||
            (b->priority == best->priority &&
             (b->claimed_at < best->claimed_at || (b->claimed_at == best->claimed_at && b->pid < best->pid))))
            best = b;
    }
    return best;
}

/* ------------------------------------------------------------------------ */
/* Output: one JSON line per command                                         */
/* ------------------------------------------------------------------------ */

typedef struct {
    char *p;
    size_t n, cap;
} Buf;

static void buf_reserve(Buf *b, size_t more) {
    if (b->n + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) { perror("realloc"); exit(3); }
    b->p = p;
    b->cap = cap;
}

static void buf_add(Buf *b, const char *s, size_t n) {
    buf_reserve(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void buf_str(Buf *b, const char *s) { buf_add(b, s, strlen(s)); }

__attribute__((format(printf, 2, 3))) static void buf_fmt(Buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

/* Length of a valid UTF-8 sequence at p (strict: no overlongs, surrogates or > U+10FFFF), else 0. */
static size_t utf8_seq(const uint8_t *p, size_t n) {
    uint8_t c = p[0];
    size_t len;
    uint8_t lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else return 0;
    if (n < len) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;
    return len;
}

/* A JSON string; bytes that are not valid UTF-8 are emitted as \u00XX (their Latin-1 reading). */
static void buf_jstr(Buf *b, const uint8_t *p, size_t n) {
    buf_add(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c < 0x80) {
            switch (c) {
            case '"': buf_add(b, "\\\"", 2); break;
            case '\\': buf_add(b, "\\\\", 2); break;
            case '\n': buf_add(b, "\\n", 2); break;
            case '\r': buf_add(b, "\\r", 2); break;
            case '\t': buf_add(b, "\\t", 2); break;
            case '\b': buf_add(b, "\\b", 2); break;
            case '\f': buf_add(b, "\\f", 2); break;
            default:
                if (c < 0x20 || c == 0x7F) buf_fmt(b, "\\u%04x", c);
                else buf_add(b, (const char *)&c, 1);
            }
            i++;
            continue;
        }
        size_t l = utf8_seq(p + i, n - i);
        if (l) {
            buf_add(b, (const char *)p + i, l);
            i += l;
        } else {
            buf_fmt(b, "\\u%04x", c);
            i++;
        }
    }
    buf_add(b, "\"", 1);
}

static void buf_hex(Buf *b, const uint8_t *p, size_t n) {
    static const char hx[] = "0123456789abcdef";
    buf_reserve(b, 2 * n + 2);
    b->p[b->n++] = '"';
    for (size_t i = 0; i < n; i++) {
        b->p[b->n++] = hx[p[i] >> 4];
        b->p[b->n++] = hx[p[i] & 15];
    }
    b->p[b->n++] = '"';
    b->p[b->n] = '\0';
}

/* The answer being built: rc, errno name, then ",field":value pairs in extra. */
typedef struct {
    int rc;
    int eno;
    const char *error;
    Buf extra;
} Resp;

static void r_u64(Resp *r, const char *name, uint64_t v) {
    buf_fmt(&r->extra, ",\"%s\":\"%llu\"", name, (unsigned long long)v);
}
static void r_int(Resp *r, const char *name, long long v) { buf_fmt(&r->extra, ",\"%s\":%lld", name, v); }
static void r_bool(Resp *r, const char *name, bool v) {
    buf_fmt(&r->extra, ",\"%s\":%s", name, v ? "true" : "false");
}
static void r_hex(Resp *r, const char *name, const uint8_t *p, size_t n) {
    buf_fmt(&r->extra, ",\"%s\":", name);
    buf_hex(&r->extra, p, n);
}
static void r_jstr(Resp *r, const char *name, const uint8_t *p, size_t n) {
    buf_fmt(&r->extra, ",\"%s\":", name);
    buf_jstr(&r->extra, p, n);
}

static const char *errno_name(int e) {
    switch (e) {
    case EAGAIN: return "EAGAIN";
    case ENOENT: return "ENOENT";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOSPC: return "ENOSPC";
    case EPROTOTYPE: return "EPROTOTYPE";
    case ENOMEM: return "ENOMEM";
    case ENOTSUP: return "ENOTSUP";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EEXIST: return "EEXIST";
    default: return "EINVAL";
    }
}

static void emit(Resp *r) {
    Buf out = {0};
    buf_fmt(&out, "{\"rc\":%d", r->rc);
    if (r->rc != 0 && r->eno) buf_fmt(&out, ",\"errno\":\"%s\"", errno_name(r->eno));
    if (r->error) {
        buf_str(&out, ",\"error\":");
        buf_jstr(&out, (const uint8_t *)r->error, strlen(r->error));
    }
    if (r->extra.n) buf_add(&out, r->extra.p, r->extra.n);
    buf_add(&out, "}\n", 2);
    fwrite(out.p, 1, out.n, stdout);
    fflush(stdout);
    free(out.p);
}

/* ------------------------------------------------------------------------ */
/* Input: a minimal JSON parser (one object per line)                        */
/* ------------------------------------------------------------------------ */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct JV {
    int t;
    char *s; /* J_STR: decoded bytes (NUL-terminated); J_NUM: the literal text */
    size_t n; /* byte length of s */
    bool b;
    char *name; /* member name when inside an object */
    struct JV *child, *next;
} JV;

/* Every allocation of one line lives in this list and is freed after the answer. */
typedef struct Blk {
    struct Blk *next;
    max_align_t data[];
} Blk;
static Blk *pool;

static void *palloc(size_t n) {
    Blk *b = calloc(1, sizeof(Blk) + n + 1);
    if (!b) { perror("calloc"); exit(3); }
    b->next = pool;
    pool = b;
    return b->data;
}

static void pool_free(void) {
    while (pool) {
        Blk *n = pool->next;
        free(pool);
        pool = n;
    }
}

typedef struct {
    const char *p, *end;
    const char *err;
} Parser;

static void skip_ws(Parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static bool hex4(Parser *ps, unsigned *out) {
    if (ps->end - ps->p < 4) return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)ps->p[i]);
        if (h < 0) return false;
        v = (v << 4) | (unsigned)h;
    }
    ps->p += 4;
    *out = v;
    return true;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes a JSON string; a lone surrogate becomes U+FFFD, as a JS TextEncoder does. */
static bool parse_string(Parser *ps, char **out, size_t *outn) {
    ps->p++; /* opening quote */
    const char *q = ps->p;
    while (q < ps->end && *q != '"') q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
    char *o = palloc((size_t)(q - ps->p) + 4);
    size_t n = 0;
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20) { ps->err = "control character in string"; return false; }
        if (c != '\\') { o[n++] = (char)c; continue; }
        if (ps->p >= ps->end) break;
        char e = *ps->p++;
        switch (e) {
        case '"': o[n++] = '"'; break;
        case '\\': o[n++] = '\\'; break;
        case '/': o[n++] = '/'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!hex4(ps, &cp)) { ps->err = "bad \\u escape"; return false; }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                const char *save = ps->p;
                if (ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
                    ps->p += 2;
                    if (hex4(ps, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    } else {
                        ps->p = save;
                        cp = 0xFFFD;
                    }
                } else cp = 0xFFFD;
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) cp = 0xFFFD;
            n += put_utf8(o + n, cp);
            break;
        }
        default: ps->err = "bad escape"; return false;
        }
    }
    if (ps->p >= ps->end) { ps->err = "unterminated string"; return false; }
    ps->p++; /* closing quote */
    o[n] = '\0';
    *out = o;
    *outn = n;
    return true;
}

static JV *parse_value(Parser *ps, int depth);

static JV *parse_number(Parser *ps) {
    const char *s = ps->p;
    if (ps->p < ps->end && *ps->p == '-') ps->p++;
    const char *d = ps->p;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    if (ps->p == d) { ps->err = "bad number"; return NULL; }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        d = ps->p;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
        if (ps->p == d) { ps->err = "bad number"; return NULL; }
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        d = ps->p;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
        if (ps->p == d) { ps->err = "bad number"; return NULL; }
    }
    JV *v = palloc(sizeof(JV));
    v->t = J_NUM;
    v->n = (size_t)(ps->p - s);
    v->s = palloc(v->n + 1);
    memcpy(v->s, s, v->n);
    v->s[v->n] = '\0';
    return v;
}

static JV *parse_container(Parser *ps, int depth, bool obj) {
    JV *v = palloc(sizeof(JV));
    v->t = obj ? J_OBJ : J_ARR;
    JV **tail = &v->child;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
    for (;;) {
        char *name = NULL;
        size_t nlen = 0;
        skip_ws(ps);
        if (obj) {
            if (ps->p >= ps->end || *ps->p != '"') { ps->err = "expected member name"; return NULL; }
            if (!parse_string(ps, &name, &nlen)) return NULL;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') { ps->err = "expected ':'"; return NULL; }
            ps->p++;
        }
        JV *c = parse_value(ps, depth + 1);
        if (!c) return NULL;
        c->name = name;
        *tail = c;
        tail = &c->next;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
        if (ps->p < ps->end && *ps->p == (obj ? '}' : ']')) { ps->p++; return v; }
        ps->err = obj ? "expected ',' or '}'" : "expected ',' or ']'";
        return NULL;
    }
}

static bool literal(Parser *ps, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, lit, n) != 0) return false;
    ps->p += n;
    return true;
}

static JV *parse_value(Parser *ps, int depth) {
    if (depth > 32) { ps->err = "nesting too deep"; return NULL; }
    skip_ws(ps);
    if (ps->p >= ps->end) { ps->err = "unexpected end of line"; return NULL; }
    char c = *ps->p;
    if (c == '{' || c == '[') return parse_container(ps, depth, c == '{');
    if (c == '"') {
        JV *v = palloc(sizeof(JV));
        v->t = J_STR;
        return parse_string(ps, &v->s, &v->n) ? v : NULL;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(ps);
    JV *v = palloc(sizeof(JV));
    if (literal(ps, "true")) { v->t = J_BOOL; v->b = true; return v; }
    if (literal(ps, "false")) { v->t = J_BOOL; return v; }
    if (literal(ps, "null")) { v->t = J_NULL; return v; }
    ps->err = "unexpected character";
    return NULL;
}

static JV *jget(JV *obj, const char *name) {
    for (JV *c = obj->child; c; c = c->next)
        if (c->name && strcmp(c->name, name) == 0) return c;
    return NULL;
}

/* ---- field readers: return 0 ok, -1 missing, -2 malformed ---- */

/* 64-bit numbers arrive as decimal strings or JSON numbers; negative integers wrap (two's complement). */
static int f_u64(JV *o, const char *name, uint64_t *out) {
    JV *v = jget(o, name);
    if (!v || v->t == J_NULL) return -1;
    if (v->t != J_STR && v->t != J_NUM) return -2;
    const char *s = v->s;
    if (!*s) return -2;
    bool neg = s[0] == '-';
    const char *d = neg ? s + 1 : s;
    if (*d >= '0' && *d <= '9' && strspn(d, "0123456789") == strlen(d)) {
        errno = 0;
        unsigned long long x = strtoull(d, NULL, 10);
        if (errno == ERANGE) return -2;
        *out = neg ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
        return 0;
    }
    if (v->t == J_NUM) { /* 1e3 and the like */
        double x = strtod(s, NULL);
        if (x != x || x < -9.3e18 || x >= 18446744073709551616.0) return -2;
        *out = x < 0 ? (uint64_t)(int64_t)x : (uint64_t)x;
        return 0;
    }
    return -2;
}

static int f_double(JV *o, const char *name, double *out) {
    JV *v = jget(o, name);
    if (!v || v->t == J_NULL) return -1;
    if (v->t != J_STR && v->t != J_NUM) return -2;
    char *e;
    *out = strtod(v->s, &e);
    return (*e || e == v->s) ? -2 : 0;
}

static int hex_decode(const char *s, size_t n, uint8_t **out, size_t *outn) {
    if (n % 2) return -2;
    uint8_t *o = palloc(n / 2 + 1);
    for (size_t i = 0; i < n / 2; i++) {
        int a = hexval((unsigned char)s[2 * i]), b = hexval((unsigned char)s[2 * i + 1]);
        if (a < 0 || b < 0) return -2;
        o[i] = (uint8_t)(a << 4 | b);
    }
    *out = o;
    *outn = n / 2;
    return 0;
}

static int f_hex(JV *o, const char *name, uint8_t **out, size_t *outn) {
    JV *v = jget(o, name);
    if (!v) return -1;
    if (v->t != J_STR) return -2;
    return hex_decode(v->s, v->n, out, outn);
}

/* The key as the C API sees it: a NUL-terminated string ("key" or raw "key_hex"; a NUL ends it). */
static int f_key(JV *o, const char *name, const char **out) {
    JV *v = jget(o, name);
    if (v) {
        if (v->t != J_STR) return -2;
        *out = v->s;
        return 0;
    }
    char hexname[64];
    snprintf(hexname, sizeof hexname, "%s_hex", name);
    uint8_t *b;
    size_t n;
    int rc = f_hex(o, hexname, &b, &n);
    if (rc) return rc;
    *out = (const char *)b; /* palloc zero-fills, so it is NUL-terminated */
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Torture value encoding (shared with the TypeScript tests)                 */
/* ------------------------------------------------------------------------ */

static uint64_t fnv1a64(const uint8_t *p, size_t n) { return fnv1a(p, n); }

static size_t torture_len(uint64_t seq, uint32_t M) { return 16u + (size_t)((seq * 7u) % (uint64_t)(M - 15u)); }

static size_t torture_value(uint64_t seq, uint32_t M, uint8_t *buf) {
    size_t len = torture_len(seq, M);
    put_u64le(buf, seq);
    for (size_t j = 8; j < len - 8; j++) buf[j] = (uint8_t)((seq * 31u + j) & 0xFFu);
    put_u64le(buf + len - 8, fnv1a64(buf, len - 8));
    return len;
}

/* True when buf[0, len) is the torture value of the seq in its first 8 bytes (stored in *seq). */
static bool torture_check(const uint8_t *buf, size_t len, uint64_t *seq) {
    if (len < 16 || len > st.maxv) return false;
    *seq = get_u64le(buf);
    if (torture_len(*seq, st.maxv) != len) return false;
    for (size_t j = 8; j < len - 8; j++)
        if (buf[j] != (uint8_t)((*seq * 31u + j) & 0xFFu)) return false;
    return get_u64le(buf + len - 8) == fnv1a64(buf, len - 8);
}

/* ------------------------------------------------------------------------ */
/* Command handlers                                                          */
/* ------------------------------------------------------------------------ */

#define NEED(expr, what)                                                                                   \
    do {                                                                                                   \
        if ((expr) != 0) { r->rc = -2; r->eno = EINVAL; r->error = "missing or malformed field: " what; return; } \
    } while (0)

static void emit_slot(Resp *r, uint32_t i) {
    struct slot_snapshot snap;
    bool stable = snapshot_slot(i, &snap, 100000);
    size_t kl = strnlen(snap.key, KEY_MAX);
    r_int(r, "index", i);
    r_jstr(r, "key", (const uint8_t *)snap.key, kl);
    r_hex(r, "key_hex", (const uint8_t *)snap.key, KEY_MAX);
    r_u64(r, "hash", snap.hash);
    r_u64(r, "epoch", snap.epoch);
    r_int(r, "val_off", snap.val_off);
    r_int(r, "val_len", snap.val_len);
    r_int(r, "type_flag", snap.type_flag);
    r_int(r, "user_flag", snap.user_flag);
    r_u64(r, "watcher_mask", snap.watcher_mask);
    r_u64(r, "ctime", snap.ctime);
    r_u64(r, "atime", snap.atime);
    r_u64(r, "bloom", snap.bloom);
    r_bool(r, "stable", stable);
}

static void emit_header(Resp *r) {
    struct header *H = st.H;
    r_int(r, "magic", H->magic);
    r_int(r, "version", H->version);
    r_int(r, "slots", H->slots);
    r_int(r, "max_val_sz", H->max_val_sz);
    r_u64(r, "epoch", atomic_load_explicit(&H->epoch, memory_order_acquire));
    r_int(r, "core_flags", atomic_load_explicit(&H->core_flags, memory_order_acquire));
    r_int(r, "user_flags", atomic_load_explicit(&H->user_flags, memory_order_acquire));
    r_int(r, "val_brk", atomic_load_explicit(&H->val_brk, memory_order_acquire));
    r_int(r, "val_sz", H->val_sz);
    r_int(r, "alignment", H->alignment);
    r_u64(r, "parse_failures", atomic_load_explicit(&H->parse_failures, memory_order_acquire));
    r_u64(r, "last_failure_epoch", atomic_load_explicit(&H->last_failure_epoch, memory_order_acquire));
    r_int(r, "owner_fd", atomic_load_explicit(&H->owner_fd, memory_order_acquire));
    r_int(r, "owner_pid", atomic_load_explicit(&H->owner_pid, memory_order_acquire));
    buf_str(&r->extra, ",\"bloom_watches\":[");
    for (unsigned b = 0; b < 64; b++)
        buf_fmt(&r->extra, "%s%u", b ? "," : "", atomic_load_explicit(&H->bloom_watches[b], memory_order_acquire));
    buf_str(&r->extra, "],\"signal_groups\":[");
    for (unsigned g = 0; g < N_GROUPS; g++)
        buf_fmt(&r->extra, "%s\"%llu\"", g ? "," : "",
                (unsigned long long)atomic_load_explicit(&H->signal_groups[g].count, memory_order_acquire));
    buf_str(&r->extra, "],\"dirty_mask\":[");
    for (unsigned w = 0; w < 16; w++)
        buf_fmt(&r->extra, "%s\"%llu\"", w ? "," : "",
                (unsigned long long)atomic_load_explicit(&H->dirty_mask[w], memory_order_acquire));
    buf_str(&r->extra, "]");
}

static void fill_embedding(double seed, float *v) {
    for (unsigned i = 0; i < EMBED_DIM; i++) v[i] = (float)(seed + (double)i * 0.25);
}

static void list_keys(Resp *r, bool with_epochs, uint64_t mask) {
    Buf hex = {0};
    buf_str(&r->extra, with_epochs ? ",\"matches\":[" : ",\"keys\":[");
    buf_str(&hex, ",\"keys_hex\":[");
    bool first = true;
    for (uint32_t i = 0; i < st.slots; i++) {
        struct slot *s = slot_at(i);
        if (atomic_load_explicit(&s->hash, memory_order_acquire) == 0) continue;
        if (with_epochs) {
            if ((atomic_load_explicit(&s->bloom, memory_order_acquire) & mask) != mask) continue;
        } else if (atomic_load_explicit(&s->val_len, memory_order_acquire) == 0) continue;
        size_t kl = strnlen(s->key, KEY_MAX);
        if (!first) { buf_str(&r->extra, ","); buf_str(&hex, ","); }
        first = false;
        if (with_epochs) {
            buf_str(&r->extra, "{\"key\":");
            buf_jstr(&r->extra, (const uint8_t *)s->key, kl);
            buf_str(&r->extra, ",\"key_hex\":");
            buf_hex(&r->extra, (const uint8_t *)s->key, kl);
            buf_fmt(&r->extra, ",\"epoch\":\"%llu\",\"index\":%u}",
                    (unsigned long long)atomic_load_explicit(&s->epoch, memory_order_acquire), i);
        } else {
            buf_jstr(&r->extra, (const uint8_t *)s->key, kl);
            buf_hex(&hex, (const uint8_t *)s->key, kl);
        }
    }
    buf_str(&r->extra, "]");
    if (!with_epochs) {
        buf_str(&hex, "]");
        buf_add(&r->extra, hex.p, hex.n);
    }
    free(hex.p);
}

/* The search CLI's scoring (docs/search.md "The ranking"): float sums in index order, sqrtf of each
 * norm, similarity 0 below a 1e-9 norm product; filters only when positive; best first, slot order on
 * a full tie (a stable sort, where C's qsort leaves such ties unordered). */
/* C's search scoring, in float as C computes it: cosine similarity (0 when a norm is ~0) and Euclidean distance. */
static void score_pair(const float *q, const float *v, float *sim, float *dist) {
    float dot = 0.0f, qq = 0.0f, vv = 0.0f, dd = 0.0f;
    for (unsigned k = 0; k < EMBED_DIM; k++) {
        dot += q[k] * v[k];
        qq += q[k] * q[k];
        vv += v[k] * v[k];
    }
    for (unsigned k = 0; k < EMBED_DIM; k++) {
        float diff = q[k] - v[k];
        dd += diff * diff;
    }
    float norms = sqrtf(qq) * sqrtf(vv);
    *sim = norms < 1e-9f ? 0.0f : dot / norms;
    *dist = sqrtf(dd);
}

struct scored { uint32_t index; float sim, dist; int has; };

static int scored_cmp(const void *pa, const void *pb) {
    const struct scored *a = pa, *b = pb;
    if (a->sim != b->sim) return a->sim > b->sim ? -1 : 1;
    if (a->dist != b->dist) return a->dist < b->dist ? -1 : 1;
    return a->index < b->index ? -1 : (a->index > b->index);
}

static void cmd_search(JV *o, Resp *r) {
    uint8_t *qbytes;
    size_t qn;
    uint64_t mask = 0, limit = 0;
    double min_sim = 0, max_dist = 0;
    NEED(f_hex(o, "query_hex", &qbytes, &qn), "query_hex");
    if (qn != EMBED_DIM * 4u) NEED(-2, "query_hex");
    if (jget(o, "mask")) NEED(f_u64(o, "mask", &mask), "mask");
    if (jget(o, "limit")) NEED(f_u64(o, "limit", &limit), "limit");
    if (jget(o, "min_similarity")) NEED(f_double(o, "min_similarity", &min_sim), "min_similarity");
    if (jget(o, "max_distance")) NEED(f_double(o, "max_distance", &max_dist), "max_distance");
    if (!st.emb) { r->rc = -1; r->eno = ENOTSUP; return; }
    float q[EMBED_DIM], v[EMBED_DIM];
    memcpy(q, qbytes, sizeof q);
    float fmin = (float)min_sim, fmax = (float)max_dist;
    struct scored *all = palloc(sizeof(struct scored) * (st.slots + 1u));
    uint32_t count = 0;
    for (uint32_t i = 0; i < st.slots; i++) {
        struct slot *s = slot_at(i);
        if (atomic_load_explicit(&s->hash, memory_order_acquire) == 0) continue;
        if (mask != 0) {
            if ((atomic_load_explicit(&s->bloom, memory_order_acquire) & mask) != mask) continue;
        } else if (atomic_load_explicit(&s->val_len, memory_order_acquire) == 0) continue;
        uint64_t e1 = atomic_load_explicit(&s->epoch, memory_order_acquire);
        if (e1 == 0) continue;
        struct scored one = { i, 0.0f, FLT_MAX, 0 };
        if (!(e1 & 1u)) {
            memcpy(v, embedding_of(s), sizeof v);
            atomic_thread_fence(memory_order_acquire);
            one.has = atomic_load_explicit(&s->epoch, memory_order_acquire) == e1;
        }
        if (one.has) {
            score_pair(q, v, &one.sim, &one.dist);
            if (fmin > 0.0f && one.sim < fmin) continue;
            if (fmax > 0.0f && one.dist > fmax) continue;
        } else if (fmin > 0.0f || fmax > 0.0f) {
            continue;
        }
        all[count++] = one;
    }
    qsort(all, count, sizeof *all, scored_cmp);
    uint32_t shown = (limit > 0 && limit < count) ? (uint32_t)limit : count;
    buf_fmt(&r->extra, ",\"active\":%u,\"results\":[", count);
    for (uint32_t j = 0; j < shown; j++) {
        struct slot *s = slot_at(all[j].index);
        size_t kl = strnlen(s->key, KEY_MAX);
        uint32_t sb, db;
        memcpy(&sb, &all[j].sim, 4);
        memcpy(&db, &all[j].dist, 4);
        buf_str(&r->extra, j ? ",{\"key\":" : "{\"key\":");
        buf_jstr(&r->extra, (const uint8_t *)s->key, kl);
        buf_str(&r->extra, ",\"key_hex\":");
        buf_hex(&r->extra, (const uint8_t *)s->key, kl);
        buf_fmt(&r->extra, ",\"index\":%u,\"has_embedding\":%s,\"similarity_bits\":%u,\"distance_bits\":%u,\"similarity\":\"%.4f\",\"distance\":\"%.4f\"}",
                all[j].index, all[j].has ? "true" : "false", sb, db, all[j].sim, all[j].dist);
    }
    buf_str(&r->extra, "]");
}

static void cmd_torture_write(JV *o, Resp *r) {
    const char *key;
    double secs;
    NEED(f_key(o, "key", &key), "key");
    NEED(f_double(o, "seconds", &secs), "seconds");
    if (st.maxv < 16) { r->rc = -2; r->eno = EINVAL; r->error = "torture needs max_val_sz >= 16"; return; }
    uint8_t *buf = palloc(st.maxv);
    uint64_t seq = 1, writes = 0, eagain = 0, last = 0;
    uint64_t end = mono_ns() + (uint64_t)(secs * 1e9);
    int eno;
    while (mono_ns() < end) {
        for (int k = 0; k < 64; k++) {
            size_t len = torture_value(seq, st.maxv, buf);
            if (op_set(key, buf, len, &eno) == 0) {
                writes++;
                last = seq++;
            } else eagain++;
        }
    }
    r_int(r, "writes", (long long)writes);
    r_int(r, "eagain", (long long)eagain);
    r_u64(r, "last_seq", last);
}

static void spin_us(uint64_t us) {
    if (us == 0) return;
    uint64_t until = mono_ns() + us * 1000u;
    while (mono_ns() < until) {}
}

/* `n` keys "<prefix>0", "<prefix>1", …, each in a buffer of its own (for the benchmarks). */
static char **numbered_keys(const char *prefix, uint64_t n) {
    char **keys = palloc(sizeof(char *) * (n ? n : 1));
    for (uint64_t i = 0; i < n; i++) {
        keys[i] = palloc(32);
        snprintf(keys[i], 32, "%s%llu", prefix, (unsigned long long)i);
    }
    return keys;
}

/* A value of max_val_sz bytes, "abc…z" repeated: the benchmarks write a prefix of it. */
static uint8_t *bench_value(void) {
    uint8_t *val = palloc(st.maxv);
    for (size_t j = 0; j < st.maxv; j++) val[j] = (uint8_t)('a' + j % 26);
    return val;
}

/* Cycles set, set, unset on one key with seqs first_seq + (n mod 64), n = 0, 1, 2, ... (values made
   once each): C's unset resets the slot epoch to 2 (Q7), so the key's slot epoch comes back to the
   same values cycle after cycle. "pause_us" (optional) spins that long after each operation, so
   readers find gaps between writes. */
static void cmd_torture_cycle(JV *o, Resp *r) {
    const char *key;
    double secs;
    NEED(f_key(o, "key", &key), "key");
    NEED(f_double(o, "seconds", &secs), "seconds");
    uint64_t first, pause_us = 0;
    NEED(f_u64(o, "first_seq", &first), "first_seq");
    if (f_u64(o, "pause_us", &pause_us) == -2) { r->rc = -2; r->eno = EINVAL; r->error = "malformed pause_us"; return; }
    if (st.maxv < 16) { r->rc = -2; r->eno = EINVAL; r->error = "torture needs max_val_sz >= 16"; return; }
    uint8_t *bufs[64];
    size_t lens[64];
    for (int i = 0; i < 64; i++) {
        bufs[i] = palloc(st.maxv);
        lens[i] = torture_value(first + (uint64_t)i, st.maxv, bufs[i]);
    }
    uint64_t n = 0, cycles = 0, sets = 0, unsets = 0, eagain = 0;
    uint64_t end = mono_ns() + (uint64_t)(secs * 1e9);
    int eno;
    while (mono_ns() < end) {
        for (int k = 0; k < 16; k++) {
            for (int s = 0; s < 2; s++) {
                if (op_set(key, bufs[n % 64], lens[n % 64], &eno) == 0) { sets++; n++; }
                else eagain++;
                spin_us(pause_us);
            }
            if (op_unset(key, &eno) >= 0) unsets++;
            else if (eno == EAGAIN) eagain++;
            spin_us(pause_us);
            cycles++;
        }
    }
    r_int(r, "cycles", (long long)cycles);
    r_int(r, "sets", (long long)sets);
    r_int(r, "unsets", (long long)unsets);
    r_int(r, "eagain", (long long)eagain);
}

static void cmd_torture_read(JV *o, Resp *r) {
    const char *key;
    double secs;
    NEED(f_key(o, "key", &key), "key");
    NEED(f_double(o, "seconds", &secs), "seconds");
    if (st.maxv < 16) { r->rc = -2; r->eno = EINVAL; r->error = "torture needs max_val_sz >= 16"; return; }
    uint8_t *buf = palloc(st.maxv);
    uint64_t reads = 0, eagain = 0, torn = 0, regress = 0, missing = 0, max_seq = 0;
    uint64_t end = mono_ns() + (uint64_t)(secs * 1e9);
    while (mono_ns() < end) {
        for (int k = 0; k < 64; k++) {
            long idx = find_slot(key);
            if (idx < 0) { missing++; continue; }
            struct slot *s = slot_at((uint32_t)idx);
            /* One seqlock attempt, docs/spec/FORMAT.md section 6. */
            uint64_t e1 = atomic_load_explicit(&s->epoch, memory_order_acquire);
            if (e1 & 1u) { eagain++; continue; }
            size_t len = atomic_load_explicit(&s->val_len, memory_order_acquire);
            uint32_t off = s->val_off;
            size_t n = len > st.maxv ? st.maxv : len;
            n = clamp_room(off, n);
            memcpy(buf, st.arena + off, n);
            atomic_thread_fence(memory_order_acquire);
            uint64_t e2 = atomic_load_explicit(&s->epoch, memory_order_acquire);
            if (e1 != e2) { eagain++; continue; }
            reads++;
            uint64_t seq = 0;
            if (n != len || !torture_check(buf, len, &seq)) { torn++; continue; }
            if (seq < max_seq) regress++;
            else max_seq = seq;
        }
    }
    r_int(r, "reads", (long long)reads);
    r_int(r, "eagain", (long long)eagain);
    r_int(r, "torn", (long long)torn);
    r_int(r, "regressions", (long long)regress);
    r_int(r, "missing", (long long)missing);
    r_u64(r, "max_seq", max_seq);
}

/* Reads one key's type_flag with the first byte of its value in single seqlock attempts (docs/spec/FORMAT.md
   section 6: both loaded between two equal, even epoch loads) for `seconds`, and answers how often each
   (type, first byte) pair was seen, as "pairs": [[type, byte, count], ...]: a writer that changes value and
   type in one seqlock section shows only the pairs it wrote. */
static void cmd_typed_read(JV *o, Resp *r) {
    const char *key;
    double secs;
    NEED(f_key(o, "key", &key), "key");
    NEED(f_double(o, "seconds", &secs), "seconds");
    uint64_t *seen = calloc(256u * 256u, sizeof(uint64_t));
    if (!seen) { perror("calloc"); exit(3); }
    uint64_t reads = 0, eagain = 0, missing = 0, empty = 0;
    uint64_t end = mono_ns() + (uint64_t)(secs * 1e9);
    while (mono_ns() < end) {
        for (int k = 0; k < 64; k++) {
            long idx = find_slot(key);
            if (idx < 0) { missing++; continue; }
            struct slot *s = slot_at((uint32_t)idx);
            uint64_t e1 = atomic_load_explicit(&s->epoch, memory_order_acquire);
            if (e1 & 1u) { eagain++; continue; }
            uint8_t type = atomic_load_explicit(&s->type_flag, memory_order_acquire);
            size_t len = atomic_load_explicit(&s->val_len, memory_order_acquire);
            uint32_t off = s->val_off;
            uint8_t first = clamp_room(off, 1) == 1 ? st.arena[off] : 0;
            atomic_thread_fence(memory_order_acquire);
            uint64_t e2 = atomic_load_explicit(&s->epoch, memory_order_acquire);
            if (e1 != e2) { eagain++; continue; }
            if (len == 0) { empty++; continue; } /* unset meanwhile (C's unset takes no seqlock) */
            reads++;
            seen[type * 256u + first]++;
        }
    }
    r_int(r, "reads", (long long)reads);
    r_int(r, "eagain", (long long)eagain);
    r_int(r, "missing", (long long)missing);
    r_int(r, "empty", (long long)empty);
    buf_str(&r->extra, ",\"pairs\":[");
    bool first_pair = true;
    for (unsigned i = 0; i < 256u * 256u; i++) {
        if (!seen[i]) continue;
        buf_fmt(&r->extra, "%s[%u,%u,%llu]", first_pair ? "" : ",", i / 256u, i % 256u, (unsigned long long)seen[i]);
        first_pair = false;
    }
    buf_str(&r->extra, "]");
    free(seen);
}

static void cmd_bench(JV *o, Resp *r) {
    JV *wv = jget(o, "workload");
    uint64_t iters, nkeys, vsize = 16;
    if (!wv || wv->t != J_STR) { r->rc = -2; r->eno = EINVAL; r->error = "missing workload"; return; }
    NEED(f_u64(o, "iterations", &iters), "iterations");
    NEED(f_u64(o, "keys", &nkeys), "keys");
    int vrc = f_u64(o, "value_size", &vsize);
    if (vrc == -2 || vsize == 0 || vsize > st.maxv || nkeys == 0 || nkeys > st.slots) {
        r->rc = -2; r->eno = EINVAL; r->error = "need 1 <= keys <= slots and 1 <= value_size <= max_val_sz";
        return;
    }
    const char *w = wv->s;
    enum { W_SET, W_GET, W_EPOCH, W_HAS, W_APPEND, W_UNSET_SET, W_MISS, W_LIST } kind;
    if (!strcmp(w, "set")) kind = W_SET;
    else if (!strcmp(w, "get")) kind = W_GET;
    else if (!strcmp(w, "get_epoch")) kind = W_EPOCH;
    else if (!strcmp(w, "has")) kind = W_HAS;
    else if (!strcmp(w, "append")) kind = W_APPEND;
    else if (!strcmp(w, "unset_set")) kind = W_UNSET_SET;
    else if (!strcmp(w, "miss")) kind = W_MISS;
    else if (!strcmp(w, "list")) kind = W_LIST;
    else { r->rc = -2; r->eno = EINVAL; r->error = "unknown workload"; return; }

    char **keys = numbered_keys("bench/", nkeys);
    char **miss = numbered_keys("bench-miss/", nkeys);
    uint8_t *val = bench_value();
    uint8_t *out = palloc(st.maxv);
    int eno;
    if (kind != W_SET) { /* every other workload works on existing keys */
        for (uint64_t i = 0; i < nkeys; i++)
            if (op_set(keys[i], val, vsize, &eno) != 0) {
                r->rc = -1; r->eno = eno; r->error = "prefill failed"; return;
            }
    }
    volatile uint64_t sink = 0;
    uint64_t acc = 0;
    uint64_t t0 = mono_ns();
    for (uint64_t it = 0, k = 0; it < iters; it++, k = (k + 1 == nkeys) ? 0 : k + 1) {
        switch (kind) {
        case W_SET: acc += (uint64_t)op_set(keys[k], val, vsize, &eno); break;
        case W_GET: {
            size_t n = 0;
            acc += (uint64_t)op_get(keys[k], out, &n, &eno) + n + out[0];
            break;
        }
        case W_EPOCH: {
            long idx = find_slot(keys[k]);
            acc += idx < 0 ? 0 : atomic_load_explicit(&slot_at((uint32_t)idx)->epoch, memory_order_acquire);
            break;
        }
        case W_HAS: acc += (uint64_t)find_slot(keys[k]); break;
        case W_APPEND: {
            uint32_t nl;
            if (op_append(keys[k], val, 1, &nl, &eno) != 0) {
                op_unset(keys[k], &eno);
                acc += (uint64_t)op_set(keys[k], val, 1, &eno);
            }
            acc += nl;
            break;
        }
        case W_UNSET_SET:
            acc += (uint64_t)op_unset(keys[k], &eno);
            acc += (uint64_t)op_set(keys[k], val, vsize, &eno);
            break;
        case W_MISS: {
            size_t n = 0;
            acc += (uint64_t)op_get(miss[k], out, &n, &eno);
            break;
        }
        case W_LIST:
            for (uint32_t i = 0; i < st.slots; i++) {
                struct slot *s = slot_at(i);
                if (atomic_load_explicit(&s->hash, memory_order_acquire) &&
                    atomic_load_explicit(&s->val_len, memory_order_acquire))
                    acc += (uint64_t)(unsigned char)s->key[0];
            }
            break;
        }
    }
    uint64_t t1 = mono_ns();
    sink = acc; /* keeps the loop's results observable */
    (void)sink;
    buf_fmt(&r->extra, ",\"ns_per_op\":%.3f", iters ? (double)(t1 - t0) / (double)iters : 0.0);
    r_int(r, "ops", (long long)iters);
}

/* CPU time of this process: a benchmark on a shared machine should not count time others ran. */
static uint64_t cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * bench_search: C's search scoring as its CLI runs it, `reps` times, each timed in CPU time: for
 * every slot with a key and a value, a slot snapshot (probe by key, copy of the slot), then
 * get_embedding (probe by key again, copy of the vector, epoch check), then the cosine loop and the
 * distance loop; then the sort of every scored slot and the cut to `limit`. Answer: the median and
 * the fastest ns per search, and the top hit's key (to check both sides found the same).
 */
static int u64_cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void cmd_bench_search(JV *o, Resp *r) {
    uint8_t *qbytes;
    size_t qn;
    uint64_t reps = 5, limit = 10;
    NEED(f_hex(o, "query_hex", &qbytes, &qn), "query_hex");
    if (qn != EMBED_DIM * 4u) NEED(-2, "query_hex");
    if (jget(o, "reps")) NEED(f_u64(o, "reps", &reps), "reps");
    if (jget(o, "limit")) NEED(f_u64(o, "limit", &limit), "limit");
    if (!st.emb || reps == 0 || reps > 1000) { r->rc = -2; r->eno = EINVAL; return; }
    float q[EMBED_DIM], v[EMBED_DIM];
    memcpy(q, qbytes, sizeof q);
    uint8_t *snapshot = palloc(st.slot_sz);
    struct scored *all = palloc(sizeof(struct scored) * (st.slots + 1u));
    uint64_t *times = palloc(sizeof(uint64_t) * reps);
    char key[KEY_MAX + 1];
    uint32_t best = 0;
    for (uint64_t rep = 0; rep < reps; rep++) {
        uint64_t t0 = cpu_ns();
        uint32_t count = 0;
        for (uint32_t i = 0; i < st.slots; i++) {
            struct slot *s = slot_at(i);
            if (atomic_load_explicit(&s->hash, memory_order_acquire) == 0) continue;
            if (atomic_load_explicit(&s->val_len, memory_order_acquire) == 0) continue;
            memcpy(key, s->key, KEY_MAX);
            key[KEY_MAX] = 0;
            long at = find_slot(key);
            if (at < 0) continue;
            memcpy(snapshot, slot_at((uint32_t)at), st.slot_sz);
            at = find_slot(key);
            if (at < 0) continue;
            struct slot *e = slot_at((uint32_t)at);
            uint64_t e1 = atomic_load_explicit(&e->epoch, memory_order_acquire);
            memcpy(v, embedding_of(e), sizeof v);
            atomic_thread_fence(memory_order_acquire);
            if (e1 == 0 || (e1 & 1u) || atomic_load_explicit(&e->epoch, memory_order_acquire) != e1) continue;
            all[count].index = i;
            score_pair(q, v, &all[count].sim, &all[count].dist);
            all[count].has = 1;
            count++;
        }
        qsort(all, count, sizeof *all, scored_cmp);
        times[rep] = cpu_ns() - t0;
        best = count > 0 ? all[0].index : UINT32_MAX;
        (void)limit;
    }
    qsort(times, reps, sizeof *times, u64_cmp);
    buf_fmt(&r->extra, ",\"median_ns\":%llu,\"min_ns\":%llu", (unsigned long long)times[reps / 2], (unsigned long long)times[0]);
    if (best != UINT32_MAX) {
        struct slot *s = slot_at(best);
        buf_str(&r->extra, ",\"top\":");
        buf_jstr(&r->extra, (const uint8_t *)s->key, strnlen(s->key, KEY_MAX));
    }
}

/*
 * bench_scale: on a fresh store, insert `keys` new keys (scale/0 ...), then `churn` unset+set
 * of existing keys, `gets` gets round-robin, and gets of `misses` keys never stored
 * (scale-miss/0 ...); each phase timed on its own, in CPU time. Answer: ns per op of each phase.
 */
static void cmd_bench_scale(JV *o, Resp *r) {
    uint64_t nkeys, churn, gets, misses, vsize = 32;
    NEED(f_u64(o, "keys", &nkeys), "keys");
    NEED(f_u64(o, "churn", &churn), "churn");
    NEED(f_u64(o, "gets", &gets), "gets");
    NEED(f_u64(o, "misses", &misses), "misses");
    int vrc = f_u64(o, "value_size", &vsize);
    if (vrc == -2 || vsize == 0 || vsize > st.maxv || nkeys == 0 || nkeys > st.slots) {
        r->rc = -2; r->eno = EINVAL; r->error = "need 1 <= keys <= slots and 1 <= value_size <= max_val_sz";
        return;
    }
    char **keys = numbered_keys("scale/", nkeys);
    char **miss = numbered_keys("scale-miss/", misses);
    uint8_t *val = bench_value();
    uint8_t *out = palloc(st.maxv);
    int eno;
    uint64_t acc = 0;
    volatile uint64_t sink;
    uint64_t t0 = cpu_ns();
    for (uint64_t i = 0; i < nkeys; i++)
        if (op_set(keys[i], val, vsize, &eno) != 0) { r->rc = -1; r->eno = eno; r->error = "insert failed"; return; }
    uint64_t t1 = cpu_ns();
    for (uint64_t i = 0; i < churn; i++) {
        const char *k = keys[i % nkeys];
        acc += (uint64_t)op_unset(k, &eno);
        acc += (uint64_t)op_set(k, val, vsize, &eno);
    }
    uint64_t t2 = cpu_ns();
    for (uint64_t i = 0; i < gets; i++) {
        size_t n = 0;
        acc += (uint64_t)op_get(keys[i % nkeys], out, &n, &eno) + n;
    }
    uint64_t t3 = cpu_ns();
    for (uint64_t i = 0; i < misses; i++) {
        size_t n = 0;
        acc += (uint64_t)op_get(miss[i], out, &n, &eno);
    }
    uint64_t t4 = cpu_ns();
    sink = acc; /* keeps the loops' results observable */
    (void)sink;
    buf_fmt(&r->extra, ",\"insert_ns\":%.3f", (double)(t1 - t0) / (double)nkeys);
    buf_fmt(&r->extra, ",\"unset_set_ns\":%.3f", churn ? (double)(t2 - t1) / (double)churn : 0.0);
    buf_fmt(&r->extra, ",\"get_ns\":%.3f", gets ? (double)(t3 - t2) / (double)gets : 0.0);
    buf_fmt(&r->extra, ",\"miss_ns\":%.3f", misses ? (double)(t4 - t3) / (double)misses : 0.0);
}

/* ------------------------------------------------------------------------ */
/* Streams (README.md, "Streams"): a producer and a consumer written the way */
/* a C program would with libsplinter's own calls only (the op_* functions:  */
/* splinter_set, splinter_get, splinter_set_slot_time,                       */
/* splinter_set_named_type, splinter_get_slot_snapshot,                      */
/* splinter_get_raw_ptr) plus one atomic_fetch_add on the head counter.      */
/* ------------------------------------------------------------------------ */

#define T_JSON 8u
#define T_VARTEXT 128u
#define STREAM_MAGIC "SPLSTRM1"
#define STREAM_META_LEN 32u
#define STREAM_NAME_MAX 40u
#define STREAM_WRITING (1ULL << 63) /* ctime flag: a C producer is writing this seq */
#define STREAM_CONTENDED_MS 100u /* how long a contested read or write is retried */

/* Why the last stream call failed, for the answer's "error" (NULL: the errno says it). */
static const char *stream_why;

struct stream {
    const char *name;
    uint64_t capacity;
    _Atomic uint64_t *head; /* inside the meta key's value (splinter_get_raw_ptr), 8-aligned */
};

enum stream_state { SR_MESSAGE, SR_ABANDONED, SR_LOST, SR_PENDING };

struct stream_msg {
    enum stream_state state;
    uint64_t holds; /* SR_LOST: the seq the cell holds now */
    uint8_t type;
    uint8_t *value; /* st.maxv bytes, the caller's */
    size_t len;
};

static void sleep_us(uint64_t us) {
    struct timespec ts = {(time_t)(us / 1000000u), (long)((us % 1000000u) * 1000u)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* One wait step for a contested slot or an unpublished seq: a few immediate retries, then sleeps of
   50 µs doubling up to 1 ms. */
static void stream_pause(unsigned *round) {
    unsigned r = (*round)++;
    if (r < 4) return;
    uint64_t us = 50u << (r - 4 < 5 ? r - 4 : 5);
    sleep_us(us > 1000 ? 1000 : us);
}

/* After a failed call: true (having paused) when it was contested and there is time left to retry.
   A set that found the key's slot busy fails with ENOSPC when no empty slot was free either. */
static bool contended_again(int eno, uint64_t until, unsigned *round) {
    if ((eno != EAGAIN && eno != ENOSPC) || mono_ns() >= until) return false;
    stream_pause(round);
    return true;
}

static uint64_t contended_deadline(void) { return mono_ns() + STREAM_CONTENDED_MS * 1000000ULL; }

/* A timeout from the request in ns, saturated so that a huge one means "for good", not a wrap. */
static uint64_t ms_to_ns(uint64_t ms) { return ms > UINT64_MAX / 4000000ULL ? UINT64_MAX / 4 : ms * 1000000ULL; }

static bool stream_name_ok(const char *name) {
    size_t n = strlen(name);
    return n >= 1 && n <= STREAM_NAME_MAX && !strchr(name, '#');
}

/* The cell that holds seq s: NAME#<s mod capacity> (at most 40 + 1 + 20 bytes). */
static void cell_key(const struct stream *sm, uint64_t s, char key[KEY_MAX]) {
    snprintf(key, KEY_MAX, "%s#%llu", sm->name, (unsigned long long)(s % sm->capacity));
}

/* splinter_get, retried while the slot is contested. */
static int get_retrying(const char *key, uint8_t *buf, size_t *len, int *eno) {
    uint64_t until = contended_deadline();
    unsigned round = 0;
    while (op_get(key, buf, len, eno) != 0)                                   /* splinter_get */
        if (!contended_again(*eno, until, &round)) return -1;
    return 0;
}

/* Opens stream `name` as a C user would: splinter_get of NAME#s for the magic and the capacity, then
   splinter_get_raw_ptr for the address of the head counter. */
static int stream_open(const char *name, struct stream *sm, int *eno) {
    char key[KEY_MAX];
    snprintf(key, sizeof key, "%s#s", name);
    uint8_t *meta = palloc(st.maxv);
    size_t len = 0;
    if (get_retrying(key, meta, &len, eno) != 0) {
        stream_why = *eno == ENOENT ? "no meta key NAME#s: not a stream" : NULL;
        return -1;
    }
    if (len < STREAM_META_LEN || memcmp(meta, STREAM_MAGIC, 8) != 0) {
        stream_why = "the meta key NAME#s does not hold 32 bytes starting with SPLSTRM1";
        *eno = EINVAL;
        return -1;
    }
    uint64_t capacity = get_u64le(meta + 8);
    if (capacity == 0 || capacity >= STREAM_WRITING) {
        stream_why = "the meta key's capacity is 0 or not below 2^63";
        *eno = EINVAL;
        return -1;
    }
    uint64_t epoch;
    uint8_t *value = op_get_raw_ptr(key, &len, &epoch, eno);                  /* splinter_get_raw_ptr */
    if (!value) return -1;
    if (len < STREAM_META_LEN) { stream_why = "the meta key shrank"; *eno = EINVAL; return -1; }
    /* The counter is the u64 at the first 8-aligned address at or after value byte 16. */
    uintptr_t at = ((uintptr_t)(value + 16) + 7u) & ~(uintptr_t)7u;
    sm->name = name;
    sm->capacity = capacity;
    sm->head = (_Atomic uint64_t *)at;
    *eno = 0;
    return 0;
}

/* Marks seq s abandoned in its cell as a declaration leaves it: type VOID, then ctime = s. Used when
   this producer cannot be sure it may publish s; if the type cannot be set, the ctime is not either
   (a ctime of s over the old type would deliver the previous lap's value as seq s). */
static void stream_abandon(const char *cell, uint64_t s) {
    int eno;
    uint64_t until = contended_deadline();
    unsigned round = 0;
    while (op_set_named_type(cell, T_VOID, &eno) != 0)                       /* splinter_set_named_type */
        if (!contended_again(eno, until, &round)) return;
    round = 0;
    while (op_set_slot_time(cell, 0, s, 0, &eno) != 0)                       /* splinter_set_slot_time */
        if (!contended_again(eno, until, &round)) return;
}

static int stream_ack_read(const char *key, uint64_t *acked, bool *exists, int *eno);

/* The convention's "Holding a producer": claims head + 1 with a compare-and-swap, only while it is
   within the held-by consumer's acknowledged seq + capacity; 0 (EAGAIN) when it is not. */
static uint64_t stream_claim_held(const struct stream *sm, const char *hold_key, int *eno) {
    uint64_t h = atomic_load(sm->head);
    for (;;) {
        uint64_t acked;
        bool exists;
        if (stream_ack_read(hold_key, &acked, &exists, eno) != 0) return 0;    /* splinter_get */
        if (h + 1 > acked + sm->capacity) {
            stream_why = "held: the seq would overwrite one the consumer has not acknowledged";
            *eno = EAGAIN;
            return 0;
        }
        if (atomic_compare_exchange_strong(sm->head, &h, h + 1)) return h + 1;
    }
}

/* Produces one message (the convention's "Producing"). *seq is the seq claimed (0 when none was).
   hold_key: the ack key of a consumer that holds this producer (NULL: not held). */
static int stream_append(const struct stream *sm, const uint8_t *value, size_t len, uint8_t type,
                         uint64_t claim_timeout_ms, const char *hold_key, uint64_t *seq, int *eno) {
    *seq = 0;
    if (len == 0 || len > st.maxv) { *eno = len ? EMSGSIZE : EINVAL; return -1; }

    /* 1. Claim: the one atomic operation the convention adds to libsplinter's calls. */
    uint64_t s;
    if (hold_key) {
        s = stream_claim_held(sm, hold_key, eno);
        if (!s) return -1;
    } else s = atomic_fetch_add(sm->head, 1) + 1;
    *seq = s;
    if (s >= STREAM_WRITING) { stream_why = "the head counter passed 2^63"; *eno = EINVAL; return -1; }
    char cell[KEY_MAX];
    cell_key(sm, s, cell);

    /* 2. Wait until the previous lap is published: ctime = s - capacity (0 on the first lap). */
    uint64_t prev = s > sm->capacity ? s - sm->capacity : 0;
    uint64_t deadline = mono_ns() + ms_to_ns(claim_timeout_ms);
    struct slot_snapshot snap;
    unsigned round = 0;
    for (;;) {
        if (op_get_slot_snapshot(cell, &snap, eno) == 0) {                   /* splinter_get_slot_snapshot */
            if (snap.ctime == prev) break;
            if ((snap.ctime & ~STREAM_WRITING) >= s) {
                stream_why = "the seq was declared abandoned before it could be written";
                *eno = ETIMEDOUT;
                return -1;
            }
        } else if (*eno != EAGAIN) return -1;
        if (mono_ns() >= deadline) {
            stream_why = "the previous lap of the cell was not published in time";
            *eno = ETIMEDOUT;
            return -1;
        }
        stream_pause(&round);
    }
    uint64_t checked_epoch = snap.epoch;

    /* 3. The five writes: our pid (who is writing), being written, value, type, published. */
    uint64_t until = contended_deadline();
    round = 0;
    while (op_set_slot_time(cell, 1, (uint64_t)getpid(), 0, eno) != 0)      /* splinter_set_slot_time (atime) */
        if (!contended_again(*eno, until, &round)) return -1;
    round = 0;
    while (op_set_slot_time(cell, 0, s | STREAM_WRITING, 0, eno) != 0)      /* splinter_set_slot_time */
        if (!contended_again(*eno, until, &round)) return -1;
    /* Declaring s abandoned takes the cell's seqlock, which moves the epoch (set_slot_time does not):
       a moved epoch may be a declaration the write above overwrote, so s stays abandoned. */
    if (op_get_slot_snapshot(cell, &snap, eno) != 0 || snap.epoch != checked_epoch) { /* splinter_get_slot_snapshot */
        stream_abandon(cell, s);
        stream_why = "the cell's seqlock was taken after the claim was checked: the seq may have been declared abandoned";
        *eno = ETIMEDOUT;
        return -1;
    }
    round = 0;
    while (op_set(cell, value, len, eno) != 0)                                /* splinter_set */
        if (!contended_again(*eno, until, &round)) { stream_abandon(cell, s); return -1; }
    /* set skips a slot it finds locked (quirk Q1) and may have put the value into a second copy of
       the key, which no reader finds: read the cell back, and give the seq up if it is not ours. */
    {
        static uint8_t *back;
        if (back == NULL && (back = malloc(st.maxv ? st.maxv : 1)) == NULL) { stream_abandon(cell, s); *eno = ENOMEM; return -1; }
        size_t back_len = 0;
        int got;
        round = 0;
        while ((got = op_get(cell, back, &back_len, eno)) != 0)               /* splinter_get */
            if (!contended_again(*eno, until, &round)) break;
        if (got != 0 || back_len != len || memcmp(back, value, len) != 0) {
            stream_abandon(cell, s);
            stream_why = "the value did not land in the cell (set skipped it while it was locked)";
            *eno = ETIMEDOUT;
            return -1;
        }
    }
    round = 0;
    while (op_set_named_type(cell, type, eno) != 0)                          /* splinter_set_named_type */
        if (!contended_again(*eno, until, &round)) { stream_abandon(cell, s); return -1; }
    round = 0;
    while (op_set_slot_time(cell, 0, s, 0, eno) != 0)                        /* splinter_set_slot_time */
        if (!contended_again(*eno, until, &round)) return -1;
    *eno = 0;
    return 0;
}

/* Reads seq n (the convention's "Consuming"): snapshot, get, snapshot, accepted when both snapshots
   show the same epoch (each is even); ctime and type come from the first. EAGAIN after about 100 ms. */
static int stream_read(const struct stream *sm, uint64_t n, struct stream_msg *m, int *eno) {
    char cell[KEY_MAX];
    cell_key(sm, n, cell);
    uint64_t until = contended_deadline();
    unsigned round = 0;
    for (;;) {
        struct slot_snapshot before, after;
        if (op_get_slot_snapshot(cell, &before, eno) == 0 &&                 /* splinter_get_slot_snapshot */
            op_get(cell, m->value, &m->len, eno) == 0 &&                    /* splinter_get */
            op_get_slot_snapshot(cell, &after, eno) == 0) {                 /* splinter_get_slot_snapshot */
            if (before.epoch == after.epoch) {
                uint64_t c = before.ctime & ~STREAM_WRITING;
                bool writing = (before.ctime & STREAM_WRITING) != 0;
                m->type = before.type_flag;
                m->holds = c;
                if (c == n && !writing) m->state = before.type_flag == T_VOID ? SR_ABANDONED : SR_MESSAGE;
                else if (c > n) m->state = SR_LOST;
                else m->state = SR_PENDING;
                *eno = 0;
                return 0;
            }
            *eno = EAGAIN; /* a write came between the snapshots */
        }
        if (*eno != EAGAIN) return -1;
        if (mono_ns() >= until) { stream_why = "the cell never read consistently"; return -1; }
        stream_pause(&round);
    }
}

/* NAME#c.<id>: a durable consumer's acknowledged seq. False when the key would pass 63 bytes. */
static bool ack_key(const char *name, const char *id, char key[KEY_MAX]) {
    size_t nl = strlen(name), il = strlen(id);
    if (il == 0 || nl + 3 + il > KEY_MAX - 1) return false;
    memcpy(key, name, nl);
    memcpy(key + nl, "#c.", 3);
    memcpy(key + nl + 3, id, il + 1);
    return true;
}

/* splinter_get of the ack key: 8 bytes, a u64 little-endian; missing: 0 (and *exists false). */
static int stream_ack_read(const char *key, uint64_t *acked, bool *exists, int *eno) {
    uint8_t *buf = palloc(st.maxv);
    size_t len = 0;
    *acked = 0;
    *exists = false;
    if (get_retrying(key, buf, &len, eno) != 0) {
        if (*eno != ENOENT) return -1;
        *eno = 0;
        return 0;
    }
    *exists = true;
    if (len != 8) { stream_why = "the ack key does not hold 8 bytes"; *eno = EINVAL; return -1; }
    *acked = get_u64le(buf);
    return 0;
}

/* splinter_set of the 8 bytes, then splinter_set_named_type BIGUINT when the key is new. */
static int stream_ack_write(const char *key, uint64_t seq, bool *exists, int *eno) {
    uint8_t le[8];
    put_u64le(le, seq);
    uint64_t until = contended_deadline();
    unsigned round = 0;
    while (op_set(key, le, 8, eno) != 0)                                      /* splinter_set */
        if (!contended_again(*eno, until, &round)) return -1;
    if (*exists) return 0;
    round = 0;
    while (op_set_named_type(key, T_BIGUINT, eno) != 0)                      /* splinter_set_named_type */
        if (!contended_again(*eno, until, &round)) return -1;
    *exists = true;
    return 0;
}

/* ---- stream commands ---- */

static void stream_fail(Resp *r, int eno) {
    r->rc = -1;
    r->eno = eno;
    r->error = stream_why;
}

/* Reads "name" and opens the stream; false (with the answer set) on failure. */
static bool open_named_stream(JV *o, Resp *r, struct stream *sm) {
    const char *name;
    int eno;
    stream_why = NULL;
    if (f_key(o, "name", &name) != 0 || !stream_name_ok(name)) {
        r->rc = -2;
        r->eno = EINVAL;
        r->error = "name: 1..40 bytes, no '#'";
        return false;
    }
    if (stream_open(name, sm, &eno) != 0) { stream_fail(r, eno); return false; }
    return true;
}

static void cmd_stream_append(JV *o, Resp *r) {
    uint8_t *value;
    size_t len;
    uint64_t type = T_BINARY, timeout_ms = 2000, seq;
    int eno;
    NEED(f_hex(o, "value_hex", &value, &len), "value_hex");
    if (f_u64(o, "type", &type) == -2 || (type != T_BINARY && type != T_VARTEXT && type != T_JSON))
        NEED(-2, "type (16, 128 or 8)");
    if (f_u64(o, "claim_timeout_ms", &timeout_ms) == -2) NEED(-2, "claim_timeout_ms");
    const char *hold = NULL;
    int hold_rc = f_key(o, "hold", &hold);
    if (hold_rc == -2) NEED(-2, "hold (a consumer id)");
    struct stream sm;
    if (!open_named_stream(o, r, &sm)) return;
    char hold_key[KEY_MAX];
    if (hold_rc == 0 && !ack_key(sm.name, hold, hold_key)) NEED(-2, "hold (the key NAME#c.<id> must fit 63 bytes)");
    if (stream_append(&sm, value, len, (uint8_t)type, timeout_ms, hold_rc == 0 ? hold_key : NULL, &seq, &eno) != 0) stream_fail(r, eno);
    if (seq) r_u64(r, "seq", seq);
}

static void cmd_stream_read(JV *o, Resp *r) {
    uint64_t n;
    int eno;
    NEED(f_u64(o, "seq", &n), "seq");
    if (n == 0 || n >= STREAM_WRITING) NEED(-2, "seq (1 .. 2^63-1)");
    struct stream sm;
    if (!open_named_stream(o, r, &sm)) return;
    struct stream_msg m = {.value = palloc(st.maxv)};
    if (stream_read(&sm, n, &m, &eno) != 0) { stream_fail(r, eno); return; }
    static const char *const names[] = {"message", "abandoned", "lost", "pending"};
    buf_fmt(&r->extra, ",\"state\":\"%s\"", names[m.state]);
    if (m.state == SR_MESSAGE) {
        r_hex(r, "value_hex", m.value, m.len);
        r_int(r, "type", m.type);
    }
    if (m.state == SR_LOST) r_u64(r, "holds", m.holds);
}

static void cmd_stream_head(JV *o, Resp *r) {
    struct stream sm;
    if (!open_named_stream(o, r, &sm)) return;
    r_u64(r, "head", atomic_load(sm.head));
    r_u64(r, "capacity", sm.capacity);
}

/* Test-only: appends the torture values of payloads first, first+1, … as fast as it can. */
static void cmd_stream_produce(JV *o, Resp *r) {
    uint64_t first, count, timeout_ms = 2000;
    double secs = 0;
    int eno = 0;
    NEED(f_u64(o, "first", &first), "first");
    NEED(f_u64(o, "count", &count), "count");
    int src = f_double(o, "seconds", &secs);
    if (src == -2 || (src == 0 && !(secs > 0))) NEED(-2, "seconds");
    if (f_u64(o, "claim_timeout_ms", &timeout_ms) == -2) NEED(-2, "claim_timeout_ms");
    if (st.maxv < 16) { r->rc = -2; r->eno = EINVAL; r->error = "torture needs max_val_sz >= 16"; return; }
    struct stream sm;
    if (!open_named_stream(o, r, &sm)) return;
    uint64_t end = src == 0 && secs < 1e9 ? mono_ns() + (uint64_t)(secs * 1e9) : UINT64_MAX; /* 1e9 s: no limit */
    uint8_t *buf = palloc(st.maxv);
    uint64_t appended = 0, timeouts = 0, first_seq = 0, last_seq = 0;
    for (uint64_t i = 0; i < count && mono_ns() < end; i++) {
        uint64_t seq;
        size_t len = torture_value(first + i, st.maxv, buf);
        if (stream_append(&sm, buf, len, T_BINARY, timeout_ms, NULL, &seq, &eno) == 0) {
            appended++;
            if (!first_seq || seq < first_seq) first_seq = seq;
            if (seq > last_seq) last_seq = seq;
        } else if (eno == ETIMEDOUT) timeouts++;
        else { stream_fail(r, eno); break; }
    }
    r_int(r, "appended", (long long)appended);
    r_u64(r, "first_seq", first_seq);
    r_u64(r, "last_seq", last_seq);
    r_int(r, "timeouts", (long long)timeouts);
}

/* Test-only: consumes `count` seqs from `from`, checking every BINARY message by the torture encoding. */
static void cmd_stream_consume(JV *o, Resp *r) {
    uint64_t from, count, timeout_ms, ack_every = 1;
    const char *ack_id = NULL;
    int eno = 0;
    NEED(f_u64(o, "from", &from), "from");
    NEED(f_u64(o, "count", &count), "count");
    NEED(f_u64(o, "timeout_ms", &timeout_ms), "timeout_ms");
    if (from == 0 || from >= STREAM_WRITING) NEED(-2, "from (1 .. 2^63-1)");
    if (f_u64(o, "ack_every", &ack_every) == -2 || ack_every == 0) NEED(-2, "ack_every (>= 1)");
    if (f_key(o, "ack_id", &ack_id) == -2) NEED(-2, "ack_id");
    struct stream sm;
    if (!open_named_stream(o, r, &sm)) return;
    char ackk[KEY_MAX];
    uint64_t acked = 0;
    bool ack_exists = false;
    if (ack_id) {
        if (!ack_key(sm.name, ack_id, ackk)) NEED(-2, "ack_id (the key NAME#c.<id> must fit 63 bytes)");
        if (stream_ack_read(ackk, &acked, &ack_exists, &eno) != 0) { stream_fail(r, eno); return; }
    }
    struct stream_msg m = {.value = palloc(st.maxv)};
    uint64_t n = from, accounted = 0, messages = 0, corrupt = 0, abandoned = 0, lost = 0;
    uint64_t payload_sum = 0, payload_xor = 0, payload_count = 0, unacked = 0;
    uint64_t lost_from = 0, lost_to = 0; /* the open range of lost seqs (lost_from 0: none) */
    Buf ranges = {0};
    bool timed_out = false, failed = false;
    uint64_t last_progress = mono_ns();
    unsigned round = 0;
    while (accounted < count) {
        if (stream_read(&sm, n, &m, &eno) != 0 && eno != EAGAIN) { failed = true; break; }
        if (eno == 0 && m.state != SR_PENDING) {
            if (m.state == SR_LOST) {
                lost++;
                if (lost_from && lost_to + 1 == n) lost_to = n;
                else {
                    if (lost_from) buf_fmt(&ranges, "%s[\"%llu\",\"%llu\"]", ranges.n ? "," : "", (unsigned long long)lost_from, (unsigned long long)lost_to);
                    lost_from = lost_to = n;
                }
            } else if (m.state == SR_ABANDONED) abandoned++;
            else {
                messages++;
                uint64_t payload;
                if (m.type != T_BINARY) {} /* text and JSON messages are counted, not checked */
                else if (torture_check(m.value, m.len, &payload)) {
                    payload_sum += payload;
                    payload_xor ^= payload;
                    payload_count++;
                } else corrupt++;
                if (ack_id && ++unacked >= ack_every && n > acked) {
                    if (stream_ack_write(ackk, n, &ack_exists, &eno) != 0) { failed = true; break; }
                    acked = n;
                    unacked = 0;
                }
            }
            n++;
            accounted++;
            last_progress = mono_ns();
            round = 0;
            continue;
        }
        if (mono_ns() - last_progress >= ms_to_ns(timeout_ms)) { timed_out = true; break; }
        stream_pause(&round);
    }
    if (lost_from) buf_fmt(&ranges, "%s[\"%llu\",\"%llu\"]", ranges.n ? "," : "", (unsigned long long)lost_from, (unsigned long long)lost_to);
    if (!failed && ack_id && n - 1 > acked) {
        if (stream_ack_write(ackk, n - 1, &ack_exists, &eno) != 0) failed = true;
        else acked = n - 1;
    }
    if (failed) stream_fail(r, eno);
    r_int(r, "messages", (long long)messages);
    r_int(r, "corrupt", (long long)corrupt);
    r_int(r, "abandoned", (long long)abandoned);
    r_int(r, "lost", (long long)lost);
    buf_fmt(&r->extra, ",\"lost_ranges\":[%s]", ranges.n ? ranges.p : "");
    free(ranges.p);
    r_u64(r, "next", n);
    r_u64(r, "checksum_xor", payload_xor);
    r_u64(r, "payload_sum", payload_sum);
    r_int(r, "payload_count", (long long)payload_count);
    r_bool(r, "timed_out", timed_out);
    if (ack_id) r_u64(r, "acked", acked);
}

static void cmd_stream_ack_get(JV *o, Resp *r) {
    const char *id;
    uint64_t acked;
    bool exists;
    int eno;
    NEED(f_key(o, "id", &id), "id");
    struct stream sm;
    if (!open_named_stream(o, r, &sm)) return;
    char key[KEY_MAX];
    if (!ack_key(sm.name, id, key)) NEED(-2, "id (the key NAME#c.<id> must fit 63 bytes)");
    if (stream_ack_read(key, &acked, &exists, &eno) != 0) { stream_fail(r, eno); return; }
    r_u64(r, "acked", acked);
}

/* hold_odd / release_odd target a slot by "key" (first match) or by "index". */
static struct slot *target_slot(JV *o, Resp *r) {
    uint64_t index;
    const char *key;
    if (f_u64(o, "index", &index) == 0) {
        if (index >= st.slots) { r->rc = -2; r->eno = EINVAL; r->error = "index out of range"; return NULL; }
        return slot_at((uint32_t)index);
    }
    if (f_key(o, "key", &key) != 0) { r->rc = -2; r->eno = EINVAL; r->error = "need key or index"; return NULL; }
    long idx = find_slot(key);
    if (idx < 0) { r->rc = -1; r->eno = ENOENT; return NULL; }
    return slot_at((uint32_t)idx);
}

static void dispatch(JV *o, Resp *r) {
    JV *opv = jget(o, "op");
    if (!opv || opv->t != J_STR) { r->rc = -2; r->eno = EINVAL; r->error = "missing op"; return; }
    const char *op = opv->s;
    const char *key = NULL;
    uint64_t a = 0, b = 0, c = 0;
    int eno = 0;
    r->rc = 0;

#define IS(name) (strcmp(op, name) == 0)
#define DONE(call) do { r->rc = (call); r->eno = eno; return; } while (0)

    if (IS("set")) {
        uint8_t *v;
        size_t n;
        NEED(f_key(o, "key", &key), "key");
        NEED(f_hex(o, "value_hex", &v, &n), "value_hex");
        DONE(op_set(key, v, n, &eno));
    }
    if (IS("get")) {
        NEED(f_key(o, "key", &key), "key");
        uint8_t *buf = palloc(st.maxv);
        size_t n = 0;
        r->rc = op_get(key, buf, &n, &eno);
        r->eno = eno;
        if (r->rc == 0) r_hex(r, "value_hex", buf, n);
        return;
    }
    if (IS("unset")) {
        NEED(f_key(o, "key", &key), "key");
        DONE(op_unset(key, &eno));
    }
    if (IS("list")) { list_keys(r, false, 0); return; }
    if (IS("append")) {
        uint8_t *v;
        size_t n;
        uint32_t nl;
        NEED(f_key(o, "key", &key), "key");
        NEED(f_hex(o, "value_hex", &v, &n), "value_hex");
        r->rc = op_append(key, v, n, &nl, &eno);
        r->eno = eno;
        r_int(r, "new_len", nl);
        return;
    }
    if (IS("get_epoch")) {
        NEED(f_key(o, "key", &key), "key");
        long idx = find_slot(key);
        r_u64(r, "epoch", idx < 0 ? 0 : atomic_load_explicit(&slot_at((uint32_t)idx)->epoch, memory_order_acquire));
        return;
    }
    if (IS("set_mop")) {
        NEED(f_u64(o, "mode", &a), "mode");
        DONE(op_set_mop(a, &eno));
    }
    if (IS("get_mop")) { r_int(r, "mode", mop_mode()); return; }
    if (IS("purge")) { op_purge(); return; }
    if (IS("set_named_type")) {
        NEED(f_key(o, "key", &key), "key");
        NEED(f_u64(o, "mask", &a), "mask");
        DONE(op_set_named_type(key, a, &eno));
    }
    if (IS("integer_op")) {
        NEED(f_key(o, "key", &key), "key");
        NEED(f_u64(o, "int_op", &a), "int_op");
        if (f_u64(o, "operand", &b) == -2) NEED(-2, "operand");
        DONE(op_integer_op(key, a, b, &eno));
    }
    if (IS("get_biguint")) {
        NEED(f_key(o, "key", &key), "key");
        long idx = find_slot(key);
        if (idx < 0) { r->rc = -1; r->eno = ENOENT; return; }
        struct slot *s = slot_at((uint32_t)idx);
        for (int tries = 0; tries < 100000; tries++) {
            uint64_t e1 = atomic_load_explicit(&s->epoch, memory_order_acquire);
            if (e1 & 1u) continue;
            uint32_t off = s->val_off;
            if (clamp_room(off, 8) != 8) { r->rc = -1; r->eno = EINVAL; r->error = "val_off out of bounds"; return; }
            uint64_t v = get_u64le(st.arena + off);
            atomic_thread_fence(memory_order_acquire);
            if (atomic_load_explicit(&s->epoch, memory_order_acquire) != e1) continue;
            r_u64(r, "value", v);
            r_int(r, "type_flag", atomic_load_explicit(&s->type_flag, memory_order_acquire));
            return;
        }
        r->rc = -1;
        r->eno = EAGAIN;
        return;
    }
    if (IS("set_slot_time")) {
        NEED(f_key(o, "key", &key), "key");
        NEED(f_u64(o, "mode", &a), "mode");
        NEED(f_u64(o, "time", &b), "time");
        if (f_u64(o, "offset", &c) == -2) NEED(-2, "offset");
        DONE(op_set_slot_time(key, a, b, c, &eno));
    }
    if (IS("set_label") || IS("unset_label")) {
        NEED(f_key(o, "key", &key), "key");
        NEED(f_u64(o, "mask", &a), "mask");
        DONE(op_label(key, a, IS("set_label"), &eno));
    }
    if (IS("watch_register") || IS("watch_unregister")) {
        NEED(f_key(o, "key", &key), "key");
        NEED(f_u64(o, "group", &a), "group");
        DONE(op_watch(key, a, IS("watch_register"), &eno));
    }
    if (IS("watch_label_register")) {
        NEED(f_u64(o, "mask", &a), "mask");
        NEED(f_u64(o, "group", &b), "group");
        op_watch_label(a, (uint8_t)b);
        return;
    }
    if (IS("pulse_keygroup")) {
        NEED(f_key(o, "key", &key), "key");
        DONE(op_pulse_keygroup(key, &eno));
    }
    if (IS("get_signal_count")) {
        NEED(f_u64(o, "group", &a), "group");
        if (a >= N_GROUPS) { r->rc = -2; r->eno = EINVAL; return; }
        r_u64(r, "count", atomic_load_explicit(&st.H->signal_groups[a].count, memory_order_acquire));
        return;
    }
    if (IS("bump_slot")) {
        NEED(f_key(o, "key", &key), "key");
        DONE(op_bump(key, &eno));
    }
    if (IS("retrain_slot")) {
        NEED(f_key(o, "key", &key), "key");
        DONE(op_retrain(key, &eno));
    }
    if (IS("set_as_system")) {
        NEED(f_key(o, "key", &key), "key");
        DONE(op_set_as_system(key, &eno));
    }
    if (IS("enumerate_matches")) {
        NEED(f_u64(o, "mask", &a), "mask");
        list_keys(r, true, a);
        return;
    }
    if (IS("set_embedding")) {
        double seed;
        NEED(f_key(o, "key", &key), "key");
        float *v = palloc(EMBED_DIM * sizeof(float));
        if (jget(o, "vector_hex")) {
            uint8_t *bytes;
            size_t n;
            NEED(f_hex(o, "vector_hex", &bytes, &n), "vector_hex");
            if (n != EMBED_DIM * 4u) NEED(-2, "vector_hex");
            memcpy(v, bytes, n);
        } else {
            NEED(f_double(o, "seed", &seed), "seed");
            fill_embedding(seed, v);
        }
        DONE(op_set_embedding(key, v, &eno));
    }
    if (IS("search")) {
        cmd_search(o, r);
        return;
    }
    if (IS("get_embedding")) {
        NEED(f_key(o, "key", &key), "key");
        uint8_t *v = palloc(EMBED_DIM * 4u);
        r->rc = op_get_embedding(key, v, &eno);
        r->eno = eno;
        if (r->rc == 0) r_hex(r, "vector_hex", v, EMBED_DIM * 4u);
        return;
    }
    if (IS("set_tandem")) {
        NEED(f_key(o, "key", &key), "key");
        JV *arr = jget(o, "values_hex");
        if (!arr || arr->t != J_ARR) NEED(-2, "values_hex");
        unsigned order = 0;
        for (JV *v = arr->child; v; v = v->next, order++) {
            uint8_t *bytes;
            size_t n;
            if (v->t != J_STR || hex_decode(v->s, v->n, &bytes, &n) != 0) NEED(-2, "values_hex");
            size_t cap = strlen(key) + 16;
            char *name = palloc(cap);
            if (order == 0) snprintf(name, cap, "%s", key);
            else snprintf(name, cap, "%s.%u", key, order);
            if (op_set(name, bytes, n, &eno) != 0) {
                r->rc = -1;
                r->eno = eno;
                r_int(r, "failed_order", order);
                return;
            }
        }
        return;
    }
    if (IS("unset_tandem")) {
        NEED(f_key(o, "key", &key), "key");
        NEED(f_u64(o, "orders", &a), "orders");
        for (uint64_t ord = 1; ord < a && ord < 256; ord++) {
            size_t cap = strlen(key) + 24;
            char *name = palloc(cap);
            snprintf(name, cap, "%s.%llu", key, (unsigned long long)ord);
            op_unset(name, &eno);
        }
        op_unset(key, &eno);
        return;
    }
    if (IS("poll")) {
        NEED(f_key(o, "key", &key), "key");
        NEED(f_u64(o, "timeout_ms", &a), "timeout_ms");
        DONE(op_poll(key, a, &eno));
    }
    if (IS("pong")) {
        /* Benchmark responder: `count` times, wait for `key` to change with C's poll, then copy its value to `pong_key`. */
        const char *pong_key = NULL;
        NEED(f_key(o, "key", &key), "key");
        NEED(f_key(o, "pong_key", &pong_key), "pong_key");
        NEED(f_u64(o, "count", &a), "count");
        NEED(f_u64(o, "timeout_ms", &b), "timeout_ms");
        uint8_t *buf = palloc(st.maxv);
        uint64_t answered = 0;
        /* The epoch last answered is remembered across rounds (C's poll in 10 ms steps, from that
           epoch): a ping written before we look again is not missed. */
        uint64_t seen = 0;
        long idx = find_slot(key);
        if (idx >= 0) seen = atomic_load_explicit(&slot_at((uint32_t)idx)->epoch, memory_order_acquire);
        while (answered < a) {
            uint64_t deadline = mono_ns() + b * 1000000ULL;
            uint64_t cur = seen;
            for (;;) {
                idx = find_slot(key);
                cur = idx < 0 ? 0 : atomic_load_explicit(&slot_at((uint32_t)idx)->epoch, memory_order_acquire);
                if (!(cur & 1u) && cur != seen) break;
                if (mono_ns() >= deadline) break;
                sleep_ms(10);
            }
            if (cur == seen || (cur & 1u)) { eno = ETIMEDOUT; break; }
            seen = cur;
            size_t n = 0;
            if (op_get(key, buf, &n, &eno) != 0) {
                if (eno == EAGAIN) { seen = 0; continue; } /* a writer came in meanwhile: look again */
                break;
            }
            if (op_set(pong_key, buf, n, &eno) != 0) break;
            answered++;
        }
        r_u64(r, "answered", answered);
        DONE(answered == a ? 0 : -1);
    }
    if (IS("header")) { emit_header(r); return; }
    if (IS("slot")) {
        if (f_u64(o, "index", &a) == 0) {
            if (a >= st.slots) { r->rc = -2; r->eno = EINVAL; r->error = "index out of range"; return; }
            emit_slot(r, (uint32_t)a);
            return;
        }
        NEED(f_key(o, "key", &key), "index or key");
        long idx = find_slot(key);
        if (idx < 0) { r->rc = -1; r->eno = ENOENT; return; }
        emit_slot(r, (uint32_t)idx);
        return;
    }
    if (IS("global_epoch")) { r_u64(r, "epoch", atomic_load_explicit(&st.H->epoch, memory_order_acquire)); return; }
    if (IS("shard_claim_ex") || IS("shard_claim")) {
        uint64_t id, pid = (uint64_t)getpid(), intent, prio, dur, at = shard_now();
        NEED(f_u64(o, "shard_id", &id), "shard_id");
        NEED(f_u64(o, "intent", &intent), "intent");
        NEED(f_u64(o, "priority", &prio), "priority");
        NEED(f_u64(o, "duration", &dur), "duration");
        if (IS("shard_claim_ex")) {
            NEED(f_u64(o, "pid", &pid), "pid");
            NEED(f_u64(o, "claimed_at", &at), "claimed_at");
        }
        DONE(shard_claim_ex((uint32_t)id, (uint32_t)pid, (uint8_t)intent, (uint8_t)prio, dur, at, &eno));
    }
    if (IS("shard_rebid")) {
        uint64_t id, intent, prio, dur;
        NEED(f_u64(o, "shard_id", &id), "shard_id");
        NEED(f_u64(o, "intent", &intent), "intent");
        NEED(f_u64(o, "priority", &prio), "priority");
        NEED(f_u64(o, "duration", &dur), "duration");
        DONE(shard_rebid((uint32_t)id, (uint8_t)intent, (uint8_t)prio, dur, &eno));
    }
    if (IS("shard_release")) {
        NEED(f_u64(o, "shard_id", &a), "shard_id");
        DONE(shard_release((uint32_t)a, &eno));
    }
    if (IS("shard_election")) {
        uint64_t now;
        int nrc = f_u64(o, "now", &now);
        if (nrc == -2) NEED(-2, "now");
        if (nrc == -1) now = shard_now();
        struct shard_bid *w = shard_election(now);
        r_int(r, "shard_id", w ? atomic_load_explicit(&w->shard_id, memory_order_acquire) : 0);
        r_int(r, "intent", w ? w->intent : 0);
        r_u64(r, "now", now);
        return;
    }
    if (IS("shard_table")) {
        buf_str(&r->extra, ",\"bids\":[");
        for (unsigned i = 0; i < N_BIDS; i++) {
            struct shard_bid *bd = &st.H->bids[i];
            buf_fmt(&r->extra,
                    "%s{\"index\":%u,\"shard_id\":%u,\"pid\":%u,\"intent\":%u,\"priority\":%u,"
                    "\"duration\":\"%llu\",\"claimed_at\":\"%llu\"}",
                    i ? "," : "", i, atomic_load_explicit(&bd->shard_id, memory_order_acquire), bd->pid,
                    bd->intent, bd->priority, (unsigned long long)bd->duration,
                    (unsigned long long)bd->claimed_at);
        }
        buf_str(&r->extra, "]");
        return;
    }
    if (IS("shard_now")) {
        /* a calibration pair: the shard clock read between two CLOCK_MONOTONIC reads */
        uint64_t m0 = mono_ns(), now = shard_now(), m1 = mono_ns();
        r_u64(r, "now", now);
        r_u64(r, "monotonic_ns", m0 + (m1 - m0) / 2);
        r_u64(r, "monotonic_spread_ns", m1 - m0);
        return;
    }
    if (IS("shard_clock")) {
        JV *v = jget(o, "clock");
        if (v && v->t == J_STR && strcmp(v->s, "monotonic") == 0) shard_cycles = false;
        else if (v && v->t == J_STR && strcmp(v->s, "cycles") == 0) {
            if (!cycles_available()) { r->rc = -1; r->eno = ENOTSUP; return; }
            shard_cycles = true;
        } else if (v) NEED(-2, "clock");
        buf_fmt(&r->extra, ",\"clock\":\"%s\"", shard_cycles ? "cycles" : "monotonic");
        return;
    }
    if (IS("hold_odd")) {
        struct slot *s = target_slot(o, r);
        if (!s) return;
        if (!seq_lock(s)) { r->rc = -1; r->eno = EAGAIN; return; }
        r_u64(r, "epoch", atomic_load_explicit(&s->epoch, memory_order_acquire));
        return;
    }
    if (IS("release_odd")) {
        struct slot *s = target_slot(o, r);
        if (!s) return;
        uint64_t e = atomic_load_explicit(&s->epoch, memory_order_acquire);
        if (!(e & 1u)) { r->rc = -1; r->eno = EINVAL; r->error = "epoch is not odd"; return; }
        seq_unlock(s);
        r_u64(r, "epoch", e + 1);
        return;
    }
    if (IS("sleep")) {
        NEED(f_u64(o, "ms", &a), "ms");
        sleep_ms(a);
        return;
    }
    if (IS("torture_write")) { cmd_torture_write(o, r); return; }
    if (IS("torture_read")) { cmd_torture_read(o, r); return; }
    if (IS("typed_read")) { cmd_typed_read(o, r); return; }
    if (IS("torture_cycle")) { cmd_torture_cycle(o, r); return; }
    if (IS("bench")) { cmd_bench(o, r); return; }
    if (IS("bench_scale")) { cmd_bench_scale(o, r); return; }
    if (IS("bench_search")) { cmd_bench_search(o, r); return; }
    if (IS("stream_append")) { cmd_stream_append(o, r); return; }
    if (IS("stream_read")) { cmd_stream_read(o, r); return; }
    if (IS("stream_head")) { cmd_stream_head(o, r); return; }
    if (IS("stream_produce")) { cmd_stream_produce(o, r); return; }
    if (IS("stream_consume")) { cmd_stream_consume(o, r); return; }
    if (IS("stream_ack_get")) { cmd_stream_ack_get(o, r); return; }
    r->rc = -2;
    r->eno = EINVAL;
    r->error = "unknown op";
#undef IS
#undef DONE
}

/* ------------------------------------------------------------------------ */
/* Opening and creating (docs/spec/FORMAT.md sections 1 and 4)               */
/* ------------------------------------------------------------------------ */

static void fail_start(int eno, const char *msg) {
    Buf b = {0};
    buf_fmt(&b, "{\"ready\":false,\"errno\":\"%s\",\"error\":", errno_name(eno));
    buf_jstr(&b, (const uint8_t *)msg, strlen(msg));
    buf_str(&b, "}\n");
    fwrite(b.p, 1, b.n, stdout);
    fflush(stdout);
    exit(1);
}

static char *target_path(const char *target) {
    static char path[4096];
    st.is_path = strchr(target, '/') != NULL;
    if (st.is_path) snprintf(path, sizeof path, "%s", target);
    else snprintf(path, sizeof path, "/dev/shm/%s", target); /* shm_open(NAME) on Linux */
    return path;
}

static void map_store(size_t size) {
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, st.fd, 0);
    if (p == MAP_FAILED) fail_start(errno, "mmap failed");
    st.base = p;
    st.size = size;
    st.H = (struct header *)p;
}

static void set_geometry(uint32_t slots, uint32_t maxv, bool emb) {
    st.slots = slots;
    st.maxv = maxv;
    st.emb = emb;
    st.slot_sz = emb ? SLOT_EMBED : SLOT_BASE;
    size_t arena_start = HDR_SIZE + (size_t)slots * st.slot_sz;
    st.arena = st.base + arena_start;
    st.arena_sz = (size_t)slots * maxv;
    st.arena_room = st.size - arena_start;
}

static void create_store(const char *target, uint64_t slots, uint64_t maxv, bool emb) {
    if (slots == 0 || maxv == 0 || slots > UINT32_MAX || maxv > UINT32_MAX)
        fail_start(ENOTSUP, "slots and max_val_sz must be > 0");
    const char *path = target_path(target);
    size_t size = HDR_SIZE + (size_t)slots * (emb ? SLOT_EMBED : SLOT_BASE) + (size_t)slots * maxv;
    if (size > UINT32_MAX) fail_start(EINVAL, "store too large for the 32-bit val_sz field");
    /* SPLINTER_DEFAULT_UMASK (octal) is the umask during creation only. */
    const char *um = getenv("SPLINTER_DEFAULT_UMASK");
    mode_t old = 0;
    bool swap = false;
    if (um && *um) {
        char *e;
        unsigned long m = strtoul(um, &e, 8);
        if (!*e && m <= 0777) {
            old = umask((mode_t)m);
            swap = true;
        }
    }
    st.fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    int oe = errno;
    if (swap) umask(old);
    if (st.fd < 0) fail_start(oe, oe == EEXIST ? "store already exists" : "cannot create store");
    if (ftruncate(st.fd, (off_t)size) != 0) fail_start(errno, "ftruncate failed");
    map_store(size);
    set_geometry((uint32_t)slots, (uint32_t)maxv, emb);
    struct header *H = st.H;
    H->magic = SPL_MAGIC;
    H->version = SPL_VERSION;
    H->slots = (uint32_t)slots;
    H->max_val_sz = (uint32_t)maxv;
    H->val_sz = (uint32_t)size;
    atomic_store_explicit(&H->val_brk, 0, memory_order_relaxed);
    atomic_store_explicit(&H->epoch, 1, memory_order_relaxed);
    atomic_store_explicit(&H->core_flags, CF_AUTO_SCRUB | CF_HYBRID_SCRUB, memory_order_relaxed);
    for (unsigned b = 0; b < 64; b++) atomic_store_explicit(&H->bloom_watches[b], 0xFF, memory_order_relaxed);
    atomic_store_explicit(&H->owner_fd, -1, memory_order_relaxed);
    atomic_store_explicit(&H->owner_pid, 0, memory_order_relaxed);
    for (uint32_t i = 0; i < st.slots; i++) {
        struct slot *s = slot_at(i);
        s->val_off = (uint32_t)((size_t)i * maxv);
        atomic_store_explicit(&s->type_flag, T_VOID, memory_order_relaxed);
    }
    atomic_thread_fence(memory_order_release);
}

static void open_store(const char *target) {
    const char *path = target_path(target);
    st.fd = open(path, O_RDWR | O_CLOEXEC);
    if (st.fd < 0) fail_start(errno, "cannot open store");
    struct stat sb;
    if (fstat(st.fd, &sb) != 0) fail_start(errno, "fstat failed");
    if ((size_t)sb.st_size < HDR_SIZE) fail_start(EINVAL, "file smaller than the header");
    map_store((size_t)sb.st_size);
    if (st.H->magic != SPL_MAGIC || st.H->version != SPL_VERSION) fail_start(EINVAL, "bad magic or version");
    uint64_t slots = st.H->slots, maxv = st.H->max_val_sz;
    /* Nothing in the header says which build wrote it: the exact file size does. */
    if (st.size == HDR_SIZE + slots * (SLOT_BASE + maxv)) set_geometry((uint32_t)slots, (uint32_t)maxv, false);
    else if (st.size == HDR_SIZE + slots * (SLOT_EMBED + maxv)) set_geometry((uint32_t)slots, (uint32_t)maxv, true);
    else fail_start(EINVAL, "file size matches neither slot layout");
    if (slots == 0 || maxv == 0) fail_start(EINVAL, "zero geometry");
}

static void usage(void) {
    fprintf(stderr,
            "usage: splinter-peer create TARGET SLOTS MAXVAL [--embeddings]\n"
            "       splinter-peer open TARGET\n"
            "then one JSON command per line on stdin; see test/peer/README.md\n");
    exit(2);
}

static uint64_t parse_arg_u64(const char *s) {
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno || *e || !*s || *s == '-') usage();
    return v;
}

int main(int argc, char **argv) {
    if (argc < 3) usage();
    if (strcmp(argv[1], "create") == 0) {
        if (argc < 5 || argc > 6) usage();
        bool emb = false;
        if (argc == 6) {
            if (strcmp(argv[5], "--embeddings") != 0) usage();
            emb = true;
        }
        create_store(argv[2], parse_arg_u64(argv[3]), parse_arg_u64(argv[4]), emb);
    } else if (strcmp(argv[1], "open") == 0) {
        if (argc != 3) usage();
        open_store(argv[2]);
    } else usage();

    printf("{\"ready\":true,\"slots\":%u,\"max_val_sz\":%u,\"embeddings\":%s}\n", st.slots, st.maxv,
           st.emb ? "true" : "false");
    fflush(stdout);

    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        Parser ps = {line, line + n, NULL};
        skip_ws(&ps);
        if (ps.p == ps.end) continue; /* blank line: not a command */
        Resp r = {0};
        JV *o = parse_value(&ps, 0);
        if (o) {
            skip_ws(&ps);
            if (ps.p != ps.end) { o = NULL; ps.err = "trailing characters"; }
        }
        if (!o || o->t != J_OBJ) {
            r.rc = -2;
            r.eno = EINVAL;
            r.error = o ? "command must be a JSON object" : ps.err;
        } else {
            dispatch(o, &r);
        }
        emit(&r);
        free(r.extra.p);
        pool_free();
    }
    free(line);
    if (st.is_path) msync(st.base, st.size, MS_SYNC);
    munmap(st.base, st.size);
    close(st.fd);
    return 0;
}
