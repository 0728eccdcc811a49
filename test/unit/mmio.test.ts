// Register access: values round-trip, and bad offsets or values are refused with a message.
import t from 'tap';
import { read32, read64, write32, write64 } from '../../lib/mmio';

t.test('32- and 64-bit registers round-trip', async (t) => {
  const bar = new ArrayBuffer(64);
  write32(bar, 0x14, 0x00460001);
  t.equal(read32(bar, 0x14), 0x00460001);
  write64(bar, 0x28, 0x1234_5678_9abcn);
  t.equal(read64(bar, 0x28), 0x1234_5678_9abcn);
  write64(bar, 0x30, 2 ** 40);
  t.equal(read64(bar, 0x30), 2n ** 40n);
  t.equal(new Uint32Array(bar)[0x14 / 4], 0x00460001, 'little-endian in memory');
});

t.test('misaligned, out-of-range and bad values are refused', async (t) => {
  const bar = new ArrayBuffer(64);
  t.throws(() => read32(bar, 2), /4-byte aligned offset inside the 64-byte BAR/);
  t.throws(() => read32(bar, 64), /inside the 64-byte BAR/);
  t.throws(() => read64(bar, 4), /8-byte aligned/);
  t.throws(() => write32(bar, -4, 1), /aligned offset/);
  t.throws(() => write32(bar, 0, 2 ** 32), /register value must be an unsigned integer up to 4294967295/);
  t.throws(() => write32(bar, 0, -1), /unsigned integer/);
  t.throws(() => write64(bar, 0, -1n), /unsigned integer/);
  t.throws(() => write64(bar, 0, 0.5), /unsigned integer/);
  t.throws(() => (read32 as unknown as (x: unknown) => number)(5), /expected \(ArrayBuffer bar, number offset\)/);
  t.throws(() => (write32 as unknown as (a: unknown, b: unknown, c: unknown) => void)(bar, 0, 'x'), /expected \(ArrayBuffer bar, number offset, number value\)/);
});
