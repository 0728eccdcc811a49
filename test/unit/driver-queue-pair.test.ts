// The queue pair's JS batch interface over the native data plane, against a small
// software device written here (reads SQEs from the SQ memory, posts CQEs with phase).
import t from 'tap';
import { CPL, CPL_WORDS, REQ, REQ_WORDS, SubmitResult } from '../../drivers/nvme/batch';
import { nvmeNative } from '../../drivers/nvme/native';
import { QueuePair } from '../../drivers/nvme/queue-pair';
import { NVME } from '../../spec/nvme';
import { PhyrArray } from '../../lib/phyr';

function rig(size = 16, caps = { pageSize: 4096, sglSupport: 0, bitBucket: false, maxTransfer: 0 }) {
  const bar = new ArrayBuffer(0x2000);
  const sq = new ArrayBuffer(size * 64);
  const cq = new ArrayBuffer(size * 16);
  const pages = size;
  const lists = new ArrayBuffer(pages * 4096);
  const qp = new QueuePair({
    id: 1,
    size,
    bar,
    doorbellStride: 0,
    sq: { buffer: sq, offset: 0, iova: 0x10000 },
    cq: { buffer: cq, offset: 0, iova: 0x20000 },
    lists: { buffer: lists, offset: 0, iova: 0x100000, pages },
    caps,
  });
  const db = new Uint32Array(bar);
  const sqv = new DataView(sq);
  const cqw = new Uint32Array(cq);
  let head = 0;
  let tail = 0;
  let phase = 1;
  const seen: Array<{ cdw0: number; nsid: number; prp1: number; prp2: number; cdw10: number; cdw12: number }> = [];
  // Completes every SQE up to the tail doorbell with `status`.
  const device = (status = 0): number => {
    const sqTail = db[(NVME.REG_DOORBELLS + 8) / 4];
    let n = 0;
    while (head !== sqTail) {
      const o = head * 64;
      const e = {
        cdw0: sqv.getUint32(o, true),
        nsid: sqv.getUint32(o + 4, true),
        prp1: Number(sqv.getBigUint64(o + 24, true)),
        prp2: Number(sqv.getBigUint64(o + 32, true)),
        cdw10: sqv.getUint32(o + 40, true),
        cdw12: sqv.getUint32(o + 48, true),
      };
      seen.push(e);
      head = (head + 1) % size;
      cqw[tail * 4] = e.cdw10;
      cqw[tail * 4 + 2] = head | (1 << 16);
      cqw[tail * 4 + 3] = (e.cdw0 >>> 16) | (phase << 16) | (status << 17);
      tail = (tail + 1) % size;
      if (tail === 0) phase ^= 1;
      n++;
    }
    return n;
  };
  return { qp, device, seen, db };
}

t.test('a batch is one doorbell; completions come back through the shared array', async (t) => {
  const { qp, device, seen, db } = rig();
  t.equal(qp.capacity, 12);
  for (let i = 0; i < 5; i++) {
    qp.setEntry(i, 0x400000 + i * 0x1000, 4096);
    qp.setIo(i, NVME.IO_READ, 1, 1000 + i, 8, 512, i, 1, 70 + i);
  }
  t.equal(qp.submitBatch(0, 5), 5);
  t.equal(db[(NVME.REG_DOORBELLS + 8) / 4], 5, 'SQ tail doorbell');
  t.equal(qp.stats().doorbells, 1);
  for (let i = 0; i < 5; i++) t.equal(qp.requests[i * REQ_WORDS + REQ.RESULT] & 0xff, SubmitResult.OK);
  t.equal(device(), 5);
  t.equal(seen[3].prp1, 0x403000);
  t.equal(seen[3].cdw10, 1003);
  t.equal(seen[3].cdw12, 7);
  t.equal(seen[3].cdw0 & 0xff, NVME.IO_READ);
  t.equal(qp.reap(), 5);
  t.same(Array.from({ length: 5 }, (_, i) => qp.completions[i * CPL_WORDS + CPL.TAG]), [70, 71, 72, 73, 74]);
  t.equal(db[(NVME.REG_DOORBELLS + 12) / 4], 5, 'CQ head doorbell');
  t.equal(qp.reap(), 0);
  qp.close();
  qp.close();
  t.throws(() => qp.reap(), { code: 'PHYR_QUEUE_CLOSED' });
  t.throws(() => qp.native.reap(), /closed/);
});

t.test('per-request results: bounce, invalid, queue full; status in completions', async (t) => {
  const { qp, device } = rig(8);
  // Not PRP-able with a break inside a 512-byte LBA: the driver must bounce.
  qp.setEntry(0, 0x10000, 256);
  qp.setEntry(1, 0x20200, 256);
  qp.setIo(0, NVME.IO_WRITE, 1, 0, 1, 512, 0, 2, 1);
  // A 4 KiB transfer into 1 KiB.
  qp.setEntry(2, 0x30000, 1024);
  qp.setIo(1, NVME.IO_READ, 1, 0, 8, 512, 2, 1, 2);
  // Phyr entries past the arena: setIo refuses them; written into the slot directly, the
  // native side refuses them too.
  t.throws(() => qp.setIo(2, NVME.IO_READ, 1, 0, 8, 512, 1 << 30, 1, 3), { code: 'PHYR_QUEUE_BAD_ARGUMENT' });
  qp.setIo(2, NVME.IO_READ, 1, 0, 8, 512, 0, 1, 3);
  qp.requests[2 * REQ_WORDS + REQ.PHYR_FIRST] = 1 << 30;
  t.equal(qp.submitBatch(0, 3), 3);
  const res = (s: number) => qp.requests[s * REQ_WORDS + REQ.RESULT];
  t.equal(res(0) & 0xff, SubmitResult.BOUNCE);
  t.equal(nvmeNative().reasons[(res(0) >> 16) & 0xff], 'BounceUnalignedBreak');
  t.equal(res(1) & 0xff, SubmitResult.INVALID);
  t.match(nvmeNative().dptrErrors[res(1) >>> 24], /past the end/);
  t.equal(res(2) & 0xff, SubmitResult.INVALID);
  t.equal(qp.stats().outstanding, 0);
  qp.setEntry(3, 0x40000, 4096);
  for (let i = 0; i < 8; i++) qp.setIo(i, NVME.IO_READ, 1, i, 8, 512, 3, 1, 10 + i);
  t.equal(qp.submitBatch(0, 8), 6, 'stops at the outstanding cap (8 - 8/4)');
  t.equal(res(6) & 0xff, SubmitResult.QUEUE_FULL);
  device(0x0080 | (1 << 14)); // LBA Out of Range, DNR
  t.equal(qp.reap(), 6);
  t.equal(qp.completions[CPL.STATUS_FLAGS] & 0xffff, 0x4080);
  qp.close();
});

t.test('native arguments are validated', async (t) => {
  const { qp } = rig();
  t.throws(() => qp.native.submitBatch(0, 100), /exceed|from 0 to 16/);
  t.throws(() => qp.native.submitBatch(-1, 1), /integer/);
  t.throws(() => qp.native.reap(1e9), /max must be an integer from 0 to/);
  t.throws(() => (qp.native.submitRaw as unknown as (x: number) => number)(1), /64 bytes/);
  t.throws(() => qp.native.addListPages(new ArrayBuffer(100), 0, 0x1000, 1), /do not fit/);
  t.throws(() => qp.native.addListPages(new ArrayBuffer(8192), 0, 0x1001, 1), /page-aligned/);
  const N = nvmeNative();
  const base = { qid: 1, qsize: 8, bar: new ArrayBuffer(0x2000), sqDoorbell: 0x1008, cqDoorbell: 0x100c, sqOffset: 0, cqOffset: 0, listsOffset: 0, sqIova: 0, cqIova: 0, listsIova: 0, listPages: 6, pageSize: 4096, requests: new ArrayBuffer(1024), completions: new ArrayBuffer(1024) };
  const mem = { sq: new ArrayBuffer(512), cq: new ArrayBuffer(128), lists: new ArrayBuffer(6 * 4096) };
  t.ok(new N.QueuePair({ ...base, ...mem }));
  t.throws(() => new N.QueuePair({ ...base, ...mem, sq: new ArrayBuffer(100) }), /do not fit/);
  t.throws(() => new N.QueuePair({ ...base, ...mem, sqIova: 0x10 }), /page aligned/);
  t.throws(() => new N.QueuePair({ ...base, ...mem, listPages: 2, lists: new ArrayBuffer(8192) }), /list page/);
  t.throws(() => new N.QueuePair({ ...base, ...mem, qsize: 70000 }), /qsize/);
  t.throws(() => new N.QueuePair({ ...base, ...mem, sqDoorbell: 0x3000 }), /bar/);
  t.throws(() => new (N.QueuePair as unknown as new (x: number) => unknown)(5), /options object/);
  // Shadow doorbells: the four offsets are required with 'shadow', dword-aligned and inside it.
  const shadow = { shadow: new ArrayBuffer(8192), shadowSqOffset: 8, shadowCqOffset: 12, eventSqOffset: 4096 + 8, eventCqOffset: 4096 + 12 };
  t.ok(new N.QueuePair({ ...base, ...mem, ...shadow }));
  t.throws(() => new N.QueuePair({ ...base, ...mem, ...shadow, eventCqOffset: undefined }), /eventCqOffset/);
  t.throws(() => new N.QueuePair({ ...base, ...mem, ...shadow, shadowSqOffset: 6 }), /shadowSqOffset' must be a multiple of 4/);
  t.throws(() => new N.QueuePair({ ...base, ...mem, ...shadow, eventSqOffset: 8192 }), /shadow/);
  t.throws(() => new N.QueuePair({ ...base, ...mem, ...shadow, shadow: 5 as never }), /shadow/);
  qp.close();
});

t.test('explain reports the decision and its reason', async (t) => {
  const N = nvmeNative();
  const a = PhyrArray.from([{ addr: 0x10000, len: 512 }, { addr: 0x20200, len: 512 }]);
  t.match(N.explain(a.buffer, a.length, 1024, 512, { sglSupport: 1 }), { format: 'sgl', reason: 'SglNotPrpable' });
  t.match(N.explain(a.buffer, a.length, 1024, 512, {}), { format: 'split', reason: 'SplitNotPrpable', children: 2 });
  t.match(N.explain(a.buffer, a.length, 1024, 512, {}, true), { format: 'reject', reason: 'RejectAdminNotPrpable' });
  const big = PhyrArray.from([{ addr: 0x100000, len: 1 << 20 }]);
  const d = N.explain(big.buffer, 1, 1 << 20, 512, { maxTransfer: 128 * 1024 });
  t.match(d, { format: 'split', reason: 'SplitMdts', children: 8 });
  t.match(d.text, /MDTS/);
  t.throws(() => N.explain(big.buffer, 1, 2 << 20, 512, {}), /fewer bytes/);
  t.throws(() => N.explain(big.buffer, 1, 4096, 500, {}), /power of two/);
  t.equal(N.reasons.length, N.reasonTexts.length);
});
