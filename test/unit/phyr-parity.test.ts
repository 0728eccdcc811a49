// The phyr layout is identical in TypeScript and C++: compare the constants, then write
// entries on one side and read them on the other, both ways.
import t from 'tap';
import { addonRoom } from '../../lib/native';
import { PHYR_ENTRY_SIZE, PHYR_LAYOUT, PHYR_MAX_LEN, PHYR_KNOWN_FLAGS, PhyrArray, PhyrFlags } from '../../lib/phyr';

interface PhyrNative {
  layout(): { entrySize: number; addrOffset: number; lenOffset: number; flagsOffset: number; maxLen: number; knownFlags: number; flags: Record<string, number> };
  readEntries(buf: ArrayBuffer, count: number): number[][];
  writePattern(buf: ArrayBuffer, count: number): void;
}
const native = addonRoom<PhyrNative>('phyr');

t.test('layout constants match the C++ struct', async (t) => {
  const l = native.layout();
  t.equal(l.entrySize, PHYR_ENTRY_SIZE);
  t.equal(l.addrOffset, PHYR_LAYOUT.addrOffset);
  t.equal(l.lenOffset, PHYR_LAYOUT.lenOffset);
  t.equal(l.flagsOffset, PHYR_LAYOUT.flagsOffset);
  t.equal(l.maxLen, PHYR_MAX_LEN);
  t.equal(l.knownFlags, PHYR_KNOWN_FLAGS);
  t.same(l.flags, PhyrFlags);
});

t.test('entries written in TS read back natively', async (t) => {
  const a = new PhyrArray();
  a.push(0x1000, 512, PhyrFlags.HUGEPAGE);
  a.push(2 ** 40 + 12, 4096, PhyrFlags.PEER_TO_PEER);
  a.push(2 ** 52 + 8, PHYR_MAX_LEN, PhyrFlags.CMB | PhyrFlags.PINNED_FOR_IO);
  const rows = native.readEntries(a.buffer, a.length);
  t.same(rows, [
    [0, 0x1000, 512, PhyrFlags.HUGEPAGE],
    [2 ** 8, 12, 4096, PhyrFlags.PEER_TO_PEER],
    [2 ** 20, 8, PHYR_MAX_LEN, PhyrFlags.CMB | PhyrFlags.PINNED_FOR_IO],
  ]);
});

t.test('entries written natively read back in TS', async (t) => {
  const a = new PhyrArray({ capacity: 8 });
  for (let i = 0; i < 8; i++) a.push(i * 0x100000, 1); // fill to give the array 8 entries
  native.writePattern(a.buffer, 8);
  for (let i = 0; i < 8; i++) {
    t.equal(a.addrAt(i), i * 2 ** 33 + i, `addr ${i}`);
    t.equal(a.lenAt(i), 4096 * (i + 1), `len ${i}`);
    t.equal(a.flagsAt(i), i & PHYR_KNOWN_FLAGS, `flags ${i}`);
  }
});

t.test('native side rejects a count beyond the buffer', async (t) => {
  const a = new PhyrArray({ capacity: 2 });
  t.throws(() => native.readEntries(a.buffer, 3), /exceeds the buffer/);
  t.throws(() => native.readEntries(a.buffer, -1), /exceeds the buffer|not an integer/);
  t.throws(() => (native.readEntries as unknown as (x: unknown) => void)('nope'), /expected \(ArrayBuffer/);
});
