// The fabric target's data path (fabrics/queue-buffers.ts, fabrics/tcp-queue.ts) over the
// embedded controller: an IO queue's payloads live in pool buffers of the backing
// controller, reused by size, capped at (SQSIZE + 1) x MDTS, freed on disconnect; a read's
// buffer goes back only in the socket write's callback; the queue stops reading at its cap;
// the commands of one socket read reach the driver in one submit batch.
import type * as net from 'net';
import t from 'tap';
import { controllerBackend } from '../../fabrics/backend';
import { FABRIC_LIMITS } from '../../fabrics/fabric-controller';
import { TcpTarget } from '../../fabrics/target';
import type { TcpQueue } from '../../fabrics/tcp-queue';
import { NVME } from '../../spec/nvme';
import { NVMF } from '../../spec/nvmf';
import { open } from '../../targets/open';
import type { EmuFunction } from '../../emu';
import { FabricTestHost, connectCommand, propertyCommand, sqe } from '../helpers/fabric-host';

const SUBNQN = 'nqn.2026-12.dev.phyr:data-path';
const HOSTNQN = 'nqn.2026-12.dev.phyr:host-d';
const MDTS_BYTES = 4096 * 2 ** FABRIC_LIMITS.mdts;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('fabric data path on the embedded controller', async (t) => {
  const ctrl = await open('emu:size=16M');
  t.teardown(() => ctrl.close());
  const target = await TcpTarget.listen({ port: 0, subsystems: [{ nqn: SUBNQN, backend: await controllerBackend(ctrl), allowHosts: [HOSTNQN] }], log: () => {} });
  t.teardown(() => target.close());
  const port = target.address.port;
  const queues = (target as unknown as { queues: Map<TcpQueue, unknown> }).queues;
  const lbaSize = ctrl.namespace(1).lbaSize;

  const admin = await FabricTestHost.connect(port);
  t.teardown(() => admin.close());
  await admin.icReq();
  const c = connectCommand(0, 31, 0, SUBNQN, HOSTNQN);
  const cntlid = (await admin.command(c.sqe, { inCapsule: c.data })).dw0;
  await admin.command(propertyCommand(NVMF.FCTYPE_PROPERTY_SET, NVME.REG_CC, false, 0x460001));
  await admin.command(sqe(NVME.ADMIN_SET_FEATURES, 0, { 10: NVME.FEAT_NUMBER_OF_QUEUES, 11: (7 << 16) | 7 }));

  let nextQid = 1;
  async function ioQueue(sqsize: number): Promise<{ host: FabricTestHost; queue: TcpQueue }> {
    const host = await FabricTestHost.connect(port);
    t.teardown(() => host.close());
    await host.icReq();
    const qid = nextQid++;
    const cc = connectCommand(qid, sqsize, 0, SUBNQN, HOSTNQN, cntlid);
    t.equal((await host.command(cc.sqe, { inCapsule: cc.data })).status, 0, `IO queue ${qid} connects`);
    const queue = [...queues.keys()].find((q) => q.qid === qid);
    if (!queue) throw new Error(`no target queue for qid ${qid}`);
    return { host, queue };
  }
  const read = (host: FabricTestHost, lba: number, bytes: number) => host.command(sqe(NVME.IO_READ, 1, { 10: lba, 12: bytes / lbaSize - 1 }), { readBytes: bytes });
  const socketOf = (q: TcpQueue) => (q as unknown as { socket: net.Socket }).socket;
  // Holds back the callbacks of the target socket's writes (the bytes still go out), so a
  // test sees what the queue does while the socket "still sends".
  function holdWriteCallbacks(q: TcpQueue): () => void {
    const s = socketOf(q);
    const original = s.write.bind(s) as (chunk: Buffer, cb?: (err?: Error | null) => void) => boolean;
    const held: Array<() => void> = [];
    (s as unknown as { write: unknown }).write = (chunk: Buffer, cb?: (err?: Error | null) => void) => original(chunk, cb ? (err?: Error | null) => held.push(() => cb(err)) : undefined);
    return () => {
      (s as unknown as { write: unknown }).write = original;
      for (const f of held.splice(0)) f();
    };
  }

  await t.test('buffers are pool memory, reused by size, with no IO mapping', async (t) => {
    const { host, queue } = await ioQueue(127);
    const fn = ctrl.fn as EmuFunction;
    const mappings = fn.mappingCount();
    const data = Buffer.alloc(4096, 0x3c);
    for (let i = 0; i < 10; i++) t.equal((await host.command(sqe(NVME.IO_WRITE, 1, { 10: i * 8, 12: 4096 / lbaSize - 1 }), { inCapsule: data })).status, 0);
    for (let i = 0; i < 10; i++) t.same((await read(host, i * 8, 4096)).data, data, `read ${i} returns the written data`);
    const big = Buffer.from(Array.from({ length: MDTS_BYTES }, (_, i) => (i * 13) & 0xff));
    t.equal((await host.command(sqe(NVME.IO_WRITE, 1, { 10: 1024, 12: big.length / lbaSize - 1 }), { out: big })).status, 0, 'an MDTS write after an R2T');
    t.same((await read(host, 1024, big.length)).data, big, 'and read back');
    const st = queue.buffers!.stats();
    t.equal(st.allocations, 2, 'one 4 KiB and one 128 KiB buffer were allocated');
    t.equal(st.reuses, 20, 'the other 20 commands reused them');
    t.equal(st.inUseBytes, 0, 'none is in use once the commands are answered');
    t.equal(queue.buffers!.capBytes, 128 * MDTS_BYTES, 'cap: 128 entries x MDTS');
    t.equal(fn.mappingCount(), mappings, 'no IO mapping was made: the data was pool memory');
  });

  await t.test('capped at (SQSIZE + 1) x MDTS; over the cap the queue still answers', async (t) => {
    const { host, queue } = await ioQueue(1);
    t.equal(queue.buffers!.capBytes, 2 * MDTS_BYTES, 'cap of a 2-entry queue');
    const rs = await Promise.all([0, 1, 2, 3].map((i) => read(host, i * 256, MDTS_BYTES)));
    t.same(rs.map((r) => r.status), [0, 0, 0, 0], 'four reads of MDTS succeed');
    const st = queue.buffers!.stats();
    t.ok(st.heldBytes <= 2 * MDTS_BYTES, `held ${st.heldBytes} bytes, at most the cap`);
    t.ok(st.allocations <= 2, `${st.allocations} allocations`);
  });

  await t.test('a read buffer is released in the socket write callback; backpressure at the cap', async (t) => {
    const { host, queue } = await ioQueue(1);
    const release = holdWriteCallbacks(queue);
    const r1 = await read(host, 0, MDTS_BYTES);
    t.equal(r1.status, 0, 'the host got the read');
    t.equal(queue.buffers!.stats().inUseBytes, MDTS_BYTES, 'its buffer is still held: the write callback has not run');
    t.notOk(queue.readingPaused, 'below the cap the queue reads on');
    await read(host, 256, MDTS_BYTES);
    t.equal(queue.buffers!.stats().inUseBytes, 2 * MDTS_BYTES, 'two buffers held');
    t.ok(queue.readingPaused, 'at the cap the queue stopped reading the socket');
    let third = false;
    const p3 = read(host, 512, 4096).then((r) => {
      third = true;
      return r;
    });
    await sleep(200);
    t.notOk(third, 'a command sent meanwhile is not taken');
    release();
    t.equal((await p3).status, 0, 'once the writes are done, reading resumes and it is answered');
    t.notOk(queue.readingPaused, 'reading again');
    t.equal(queue.buffers!.stats().inUseBytes, 0, 'every buffer released');
  });

  await t.test('at the cap, the H2CData of writes that hold the buffers is still read', async (t) => {
    // Two MDTS writes fill a 2-entry queue's cap as their R2Ts go out; only their H2CData
    // can give the buffers back, so the queue must go on reading (a host keeping to SQSIZE
    // cannot make it hold more than the cap that way).
    const { host, queue } = await ioQueue(1);
    const a = Buffer.alloc(MDTS_BYTES, 0x11);
    const b = Buffer.alloc(MDTS_BYTES, 0x22);
    const blocks = MDTS_BYTES / lbaSize;
    const w = [a, b].map((data, i) => host.command(sqe(NVME.IO_WRITE, 1, { 10: 2048 + i * blocks, 12: blocks - 1 }), { out: data }));
    const timeout = new Promise<string>((r) => setTimeout(() => r('timed out'), 10_000).unref());
    const got = await Promise.race([Promise.all(w), timeout]);
    t.not(got, 'timed out', 'no deadlock: both writes got their data');
    if (typeof got !== 'string') t.same(got.map((c) => c.status), [0, 0], 'both succeeded');
    const r = await Promise.race([read(host, 2048, MDTS_BYTES), timeout]);
    t.ok(typeof r !== 'string' && r.data.equals(a), 'the first write reads back');
    t.equal(queue.buffers!.stats().inUseBytes, 0, 'every buffer released');
  });

  await t.test('the commands of one socket read reach the driver in one submit batch', async (t) => {
    const { host, queue } = await ioQueue(127);
    const qp = ctrl.ioDispatcher().qp as unknown as { submitBatch: (...a: number[]) => number };
    const original = qp.submitBatch;
    let batches = 0;
    qp.submitBatch = function (this: unknown, ...a: number[]) {
      batches++;
      return original.apply(this, a);
    };
    t.teardown(() => {
      qp.submitBatch = original;
    });
    let reads = 0;
    socketOf(queue).on('data', () => reads++);
    const hs = (host as unknown as { socket: net.Socket }).socket;
    hs.cork();
    const ps = Array.from({ length: 16 }, (_, i) => read(host, i * 8, 4096));
    hs.uncork();
    const rs = await Promise.all(ps);
    t.same(rs.map((r) => r.status), Array(16).fill(0), '16 reads succeed');
    t.ok(reads >= 1, `${reads} socket read(s)`);
    t.equal(batches, reads, `${batches} submit batch(es): one per socket read`);
  });

  await t.test('all pool buffers are freed on disconnect', async (t) => {
    const before = ctrl.pool.stats().buffers;
    const { host, queue } = await ioQueue(127);
    await Promise.all([0, 1, 2].map((i) => read(host, i * 8, 4096 * (i + 1))));
    t.ok(ctrl.pool.stats().buffers > before, 'the queue holds pool buffers');
    host.close();
    await new Promise<void>((resolve) => socketOf(queue).once('close', () => resolve()));
    t.equal(ctrl.pool.stats().buffers, before, 'every buffer went back to the pool');
    t.equal(ctrl.pool.stats().pendingFrees, 0, 'none waits on an IO');
  });
});
