// The shadow doorbell pages' layout (NVMe 2.0 §5.8: like the doorbell registers, SQ y at
// 2y × stride and CQ y at (2y + 1) × stride, EventIdx in the second page) and the Doorbell
// Buffer Config command naming both pages in PRP1 / PRP2.
import t from 'tap';
import { ShadowDoorbells, shadowDoorbellsOffered } from '../../drivers/nvme/shadow-doorbells';
import { NVME } from '../../spec/nvme';
import type { DmaBuffer } from '../../lib/dma';

// A pool that hands out one buffer at a non-zero offset in a larger ArrayBuffer, at a
// device address above 4 GiB (so PRP2's high dword is exercised).
function fakePool(): { alloc(size: number): DmaBuffer; freed: number } {
  const state = { freed: 0 };
  return {
    get freed() {
      return state.freed;
    },
    alloc(size: number): DmaBuffer {
      const bytes = new Uint8Array(new ArrayBuffer(size + 4096), 4096, size).fill(0xee);
      return { bytes, iova: 0x1_2345_6000, size, free: () => state.freed++ } as unknown as DmaBuffer;
    },
  };
}

t.test('offered only with OACS bit 8', async (t) => {
  t.equal(shadowDoorbellsOffered({ oacs: NVME.OACS_DOORBELL_BUFFER_CONFIG }), true);
  t.equal(shadowDoorbellsOffered({ oacs: 0xff }), false);
});

t.test('slots per queue id and doorbell stride', async (t) => {
  const pool = fakePool();
  const s = ShadowDoorbells.allocate(pool, 4096, 0);
  t.equal(s.regionFor(0), undefined, 'the admin queue keeps MMIO doorbells');
  const r = s.regionFor(3)!;
  t.equal(r.buffer.byteLength, 8192 + 4096);
  t.same([r.shadowSqOffset, r.shadowCqOffset, r.eventSqOffset, r.eventCqOffset], [4096 + 24, 4096 + 28, 8192 + 24, 8192 + 28]);
  t.ok(new Uint8Array(r.buffer, 4096, 8192).every((b) => b === 0), 'both pages start zeroed');
  t.not(s.regionFor(511), undefined, 'qid 511: its CQ slot is the last dword of the page');
  t.equal(s.regionFor(512), undefined, 'qid 512 falls outside one 4 KiB page');
  const wide = ShadowDoorbells.allocate(pool, 4096, 2).regionFor(1)!; // stride 16 bytes
  t.same([wide.shadowSqOffset - 4096, wide.shadowCqOffset - 4096], [32, 48]);
  s.free();
  t.equal(pool.freed, 1);
});

t.test('Doorbell Buffer Config names the shadow page in PRP1 and the EventIdx page in PRP2', async (t) => {
  const s = ShadowDoorbells.allocate(fakePool(), 4096, 0);
  const w = new Uint32Array(s.configSqe().buffer);
  t.equal(w[0] & 0xff, NVME.ADMIN_DOORBELL_BUFFER_CONFIG);
  t.same([w[6], w[7], w[8], w[9]], [0x2345_6000, 1, 0x2345_7000, 1]);
});

t.test('a reused qid starts from zeroed slots', async (t) => {
  const s = ShadowDoorbells.allocate(fakePool(), 4096, 0);
  const r = s.regionFor(2)!;
  const words = new Uint32Array(r.buffer);
  const offsets = [r.shadowSqOffset, r.shadowCqOffset, r.eventSqOffset, r.eventCqOffset];
  for (const off of offsets) words[off / 4] = 37; // what a deleted queue 2 left behind
  words[s.regionFor(3)!.shadowSqOffset / 4] = 9;
  s.resetSlots(2);
  t.same(offsets.map((off) => words[off / 4]), [0, 0, 0, 0]);
  t.equal(words[s.regionFor(3)!.shadowSqOffset / 4], 9, "another queue's slots are left alone");
});

