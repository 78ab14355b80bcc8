import t from 'tap';
import fc from 'fast-check';
import { fnv1a64, fnv1a64AsciiWords, fnv1a64Into, halvesToBigInt, homeSlot } from '../../src/layout/fnv1a.js';

/** The definition, in BigInt: the reference our 32-bit halves must match. */
function reference(bytes: Uint8Array): bigint {
  let h = 14695981039346656037n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 1099511628211n) & 0xffffffffffffffffn;
  return h;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

t.test('published FNV-1a 64 vectors', async (t) => {
  t.equal(fnv1a64(enc('')), 0xcbf29ce484222325n);
  t.equal(fnv1a64(enc('a')), 0xaf63dc4c8601ec8cn);
  t.equal(fnv1a64(enc('foobar')), 0x85944171f73967e8n);
});

t.test('the 32-bit halves agree with the BigInt definition', async (t) => {
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => fnv1a64(bytes) === reference(bytes)),
        { numRuns: 2000 },
      ),
    '2000 random byte strings',
  );
});

t.test('hashing a prefix of a longer buffer', async (t) => {
  const out = { hi: 0, lo: 0 };
  const bytes = enc('keyGARBAGE');
  fnv1a64Into(bytes, 3, out);
  t.equal((BigInt(out.hi) << 32n) | BigInt(out.lo), reference(enc('key')));
});

t.test('homeSlot is the unsigned 64-bit hash mod slots', async (t) => {
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 1, max: 0xffffffff }), (h, n) => {
          return homeSlot(Number(h >> 32n), Number(h & 0xffffffffn), n) === Number(h % BigInt(n));
        }),
        { numRuns: 5000 },
      ),
    '5000 random hashes and slot counts',
  );
});

t.test('an ASCII key hashed from its characters: the same hash and slot words as its UTF-8 bytes', async (t) => {
  const asciiKey = fc.string({ unit: fc.integer({ min: 1, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 63 });
  t.doesNotThrow(
    () =>
      fc.assert(
        fc.property(asciiKey, (key) => {
          const words = new Int32Array(16).fill(-1);
          const out = { hi: 0, lo: 0 };
          if (!fnv1a64AsciiWords(key, words, out)) return false;
          const bytes = enc(key);
          // The slot's bytes: the key, its NUL, zeros to the end of the word.
          const padded = new Uint8Array(16 * 4);
          padded.set(bytes);
          const expected = new Int32Array(padded.buffer);
          const count = (bytes.length >>> 2) + 1;
          return halvesToBigInt(out.hi, out.lo) === reference(bytes) && expected.subarray(0, count).every((w, i) => w === words[i]);
        }),
        { numRuns: 2000 },
      ),
    '2000 random ASCII keys',
  );
  const out = { hi: 0, lo: 0 };
  t.notOk(fnv1a64AsciiWords('café', new Int32Array(16), out), 'a character past 0x7f is left to the UTF-8 path');
  t.notOk(fnv1a64AsciiWords('a\0b', new Int32Array(16), out), 'a NUL is left to the checked path');
});
