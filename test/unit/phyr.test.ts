// phyr arrays: coalescing, splitting, growth, iteration and every rejected input.
import t from 'tap';
import { PHYR_MAX_LEN, PhyrArray, PhyrEntryError, PhyrFlags } from '../../lib/phyr';
import { PhyrError } from '../../lib/errors';

t.test('adjacent ranges with equal flags coalesce; others do not', async (t) => {
  const a = new PhyrArray();
  a.push(0x1000, 0x1000).push(0x2000, 0x800).push(0x2800, 0x10, PhyrFlags.HUGEPAGE).push(0x4000, 8, PhyrFlags.HUGEPAGE);
  t.same(a.toArray(), [
    { addr: 0x1000, len: 0x1800, flags: 0 },
    { addr: 0x2800, len: 0x10, flags: PhyrFlags.HUGEPAGE },
    { addr: 0x4000, len: 8, flags: PhyrFlags.HUGEPAGE },
  ]);
  t.equal(a.totalBytes(), 0x1800 + 0x18);
});

t.test('ranges longer than 4 GiB - 1 split into full entries', async (t) => {
  const a = new PhyrArray();
  const len = 2 * PHYR_MAX_LEN + 5;
  a.push(2 ** 36, len);
  t.equal(a.length, 3);
  t.same(a.toArray(), [
    { addr: 2 ** 36, len: PHYR_MAX_LEN, flags: 0 },
    { addr: 2 ** 36 + PHYR_MAX_LEN, len: PHYR_MAX_LEN, flags: 0 },
    { addr: 2 ** 36 + 2 * PHYR_MAX_LEN, len: 5, flags: 0 },
  ]);
  t.equal(a.totalBytes(), len);
});

t.test('coalescing fills the last entry up to the maximum then starts a new one', async (t) => {
  const a = new PhyrArray();
  a.push(0, PHYR_MAX_LEN - 10).push(PHYR_MAX_LEN - 10, 30);
  t.same(a.toArray(), [
    { addr: 0, len: PHYR_MAX_LEN, flags: 0 },
    { addr: PHYR_MAX_LEN, len: 20, flags: 0 },
  ]);
});

t.test('grows by doubling without losing entries', async (t) => {
  const a = new PhyrArray({ capacity: 1 });
  for (let i = 0; i < 1000; i++) a.push(i * 0x2000, 0x1000);
  t.equal(a.length, 1000);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a.addrAt(i) / 0x2000;
  t.equal(sum, (999 * 1000) / 2);
  t.ok(a.buffer.byteLength >= 1000 * 16);
  a.clear();
  t.equal(a.length, 0);
});

t.test('BigInt addresses cover the whole 64-bit space', async (t) => {
  const a = new PhyrArray();
  a.push(2n ** 63n, 4096, PhyrFlags.PEER_TO_PEER);
  t.equal(a.addrBigAt(0), 2n ** 63n);
  t.equal(a.lenAt(0), 4096);
  a.push(0x10000n, 16);
  t.equal(a.addrAt(1), 0x10000);
  a.push(2n ** 64n - 16n, 16);
  t.equal(a.addrBigAt(2), 2n ** 64n - 16n);
  const big = new PhyrArray();
  big.push(2n ** 60n, PHYR_MAX_LEN + 1);
  t.equal(big.length, 2);
  t.equal(big.addrBigAt(1), 2n ** 60n + BigInt(PHYR_MAX_LEN));
  t.equal(PhyrArray.from([{ addr: 8, len: 8 }, { addr: 16n, len: 8 }]).length, 1);
});

t.test('bad input is rejected with a typed error naming the entry', async (t) => {
  const cases: Array<[string, (a: PhyrArray) => unknown, string]> = [
    ['zero length', (a) => a.push(0x1000, 0), 'zero-length'],
    ['negative length', (a) => a.push(0x1000, -4), 'zero-length'],
    ['fractional length', (a) => a.push(0x1000, 1.5), 'bad-length'],
    ['negative address', (a) => a.push(-1, 4), 'bad-address'],
    ['address above 2^53 as a number', (a) => a.push(2 ** 54, 4), 'bad-address'],
    ['number range passing 2^53', (a) => a.push(Number.MAX_SAFE_INTEGER - 1, 8), 'overflow'],
    ['BigInt address past 2^64', (a) => a.push(2n ** 64n, 4), 'bad-address'],
    ['BigInt range past 2^64', (a) => a.push(2n ** 64n - 4n, 8), 'overflow'],
    ['BigInt zero length', (a) => a.push(4n, 0), 'zero-length'],
    ['BigInt fractional length', (a) => a.push(4n, 0.5), 'bad-length'],
    ['unknown flag bits', (a) => a.push(0x1000, 8, 0x100), 'unknown-flags'],
    ['non-integer flags', (a) => a.push(0x1000, 8, 1.5), 'unknown-flags'],
  ];
  for (const [what, fn, problem] of cases) {
    const a = new PhyrArray();
    a.push(0x100000, 16);
    const err = t.throws(() => fn(a), PhyrEntryError, what) as PhyrEntryError;
    t.equal(err.problem, problem, `${what}: problem`);
    t.equal(err.index, 1, `${what}: names entry 1`);
    t.match(err.message, /^phyr entry 1: /, `${what}: message names the entry`);
    t.ok(err instanceof PhyrError && err.code === 'PHYR_BAD_ENTRY', `${what}: code`);
    t.equal(a.length, 1, `${what}: array unchanged`);
  }
});

t.test('dword-aligned arrays reject unaligned addresses and lengths', async (t) => {
  const a = new PhyrArray({ dwordAligned: true });
  a.push(0x1004, 8);
  t.throws(() => a.push(0x1002, 8), PhyrEntryError);
  t.throws(() => a.push(0x2000, 6), PhyrEntryError);
  t.throws(() => a.push(0x2001n, 8), PhyrEntryError);
  for (const bad of [() => a.push(0x1002, 8), () => a.push(0x2000, 6)]) {
    try {
      bad();
    } catch (e) {
      t.equal((e as PhyrEntryError).problem, 'unaligned');
    }
  }
  const loose = new PhyrArray();
  loose.push(0x1001, 3);
  t.equal(loose.length, 1);
});
