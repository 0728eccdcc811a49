// Integrity pattern blocks: CRC-32 matches zlib's, a block verifies, and every kind of damage
// is told apart (zeros, foreign data, misdirected, stale, foreign run, corrupted byte).
import t from 'tap';
import * as zlib from 'zlib';
import { HEADER_SIZE, crc32, fillBlock, fillBlocks, prng, verifyBlock } from '../../tools/validate/pattern';

t.test('crc32 agrees with zlib', async (t) => {
  const data = new Uint8Array(1000).map((_, i) => (i * 31) & 0xff);
  t.equal(crc32(data), zlib.crc32(data));
  t.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926, 'the standard check value');
});

t.test('blocks verify and each damage kind is named', async (t) => {
  const size = 512;
  const buf = new Uint8Array(size * 4);
  fillBlocks(buf, 0, size, 2 ** 33 + 5, 4, 7, 0xdeadbeef);
  for (let i = 0; i < 4; i++) t.equal(verifyBlock(buf, i * size, size, { lba: 2 ** 33 + 5 + i, sequence: 7, seed: 0xdeadbeef }), undefined, `block ${i} verifies`);
  t.not(buf.subarray(HEADER_SIZE, 64).join(), buf.subarray(size + HEADER_SIZE, size + 64).join(), 'neighbours have different payloads');

  const exp = { lba: 2 ** 33 + 5, sequence: 7, seed: 0xdeadbeef };
  t.match(verifyBlock(new Uint8Array(size), 0, size, exp), { kind: 'zeros', message: /all zeros/ });
  t.match(verifyBlock(new Uint8Array(size).fill(0xaa), 0, size, exp), { kind: 'not-a-pattern', message: /no pattern header \(first bytes aa aa/ });
  t.match(verifyBlock(buf, size, size, exp), { kind: 'misdirected', message: /holds the block written to LBA 8589934598/ });
  t.match(verifyBlock(buf, 0, size, { ...exp, sequence: 8 }), { kind: 'stale', message: /holds write #7, expected write #8 \(a later write was lost\)/ });
  t.match(verifyBlock(buf, 0, size, { ...exp, seed: 1 }), { kind: 'foreign-run' });
  const bad = buf.slice(0, size);
  bad[300] ^= 0x10;
  t.match(verifyBlock(bad, 0, size, exp), { kind: 'corrupt', message: /CRC mismatch .* first differing byte at offset 300/ });
  const sneaky = buf.slice(0, size);
  sneaky[100] ^= 1;
  const v = new DataView(sneaky.buffer);
  v.setUint32(size - 4, crc32(sneaky, 0, size - 4), true);
  t.match(verifyBlock(sneaky, 0, size, exp), { kind: 'corrupt', message: /CRC matches but bytes differ; first differing byte at offset 100/ });
  t.throws(() => fillBlock(new Uint8Array(64), 0, 30, exp), /too small/);
});

t.test('prng is deterministic per seed', async (t) => {
  const a = prng(42);
  const b = prng(42);
  const xs = [a(), a(), a()];
  t.same([b(), b(), b()], xs);
  t.ok(xs.every((x) => x >= 0 && x < 1));
  t.not(prng(43)(), xs[0]);
});
