// A hung client costs only its own queues (docs/SERVE.md): a client fills a queue pair with
// reads and never reaps (its SQ full, its CQ holding what the controller posted), and two
// other clients each complete a fixed amount of verified IO (write, read back, compare)
// within a bound: at most 3x (+2 s) what the same IO took before the hang, measured on this
// same daemon, and under 30 s in all.
import t from 'tap';
import * as fs from 'fs';
import { connect, NVME, type ServedController } from '../../index';
import { startDaemon, stopDaemon, tmpDir } from './fixtures/serve-helpers';

const IOS = 400; // write + read-back pairs per client
const dir = tmpDir();
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

async function verifiedIo(c: ServedController, first: number): Promise<number> {
  const ns = c.namespace(1);
  const w = c.pool.alloc(4096);
  const r = c.pool.alloc(4096);
  let bad = 0;
  for (let i = 0; i < IOS; i++) {
    const lba = first + (i % 64) * 8;
    w.bytes.fill((i * 11 + first) & 0xff);
    await ns.write(lba, w);
    await ns.read(lba, r);
    if (Buffer.compare(Buffer.from(w.bytes), Buffer.from(r.bytes)) !== 0) bad++;
  }
  w.free();
  r.free();
  return bad;
}

async function bothClients(a: ServedController, b: ServedController): Promise<{ ms: number; bad: number }> {
  const t0 = process.hrtime.bigint();
  const [x, y] = await Promise.all([verifiedIo(a, 0), verifiedIo(b, 1024)]);
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, bad: x + y };
}

t.test('a client that stops reaping fills only its own queues', async (t) => {
  const d = await startDaemon(dir);
  t.teardown(() => stopDaemon(d));
  const a = await connect(d.socket, { hugepages: 'off' });
  const b = await connect(d.socket, { hugepages: 'off' });
  await bothClients(a, b); // warm up: queue pairs made, pools mapped
  const before = await bothClients(a, b);
  t.equal(before.bad, 0, `before the hang: ${2 * IOS} verified write+read pairs in ${before.ms.toFixed(0)} ms`);

  const hung = await connect(d.socket, { hugepages: 'off' });
  const size = 16;
  const qp = await hung.createQueuePair({ size });
  const data = hung.pool.alloc(4096);
  let submitted = 0;
  // Submit until the queue pair takes no more (its trackers, at most size - 1, are all in flight).
  for (let i = 0; i < size; i++) {
    qp.setEntry(i, data.iova, 4096);
    qp.setIo(i, NVME.IO_READ, 1, 2048, 8, 512, 0, 1, i);
    const n = qp.submitBatch(i, 1);
    if (n === 0) break;
    submitted += n;
  }
  t.ok(submitted >= size / 2 && submitted <= size - 1, `the hung client filled its queue pair (${submitted} reads in flight, the next refused) and never reaps`);
  const s = await a.status();
  const row = s.perClient.find((r) => r.clientId === hung.info.clientId);
  t.ok(row && row.queuePairs === 1, `its perClient row holds its queue pair (${JSON.stringify(row)})`);

  const during = await bothClients(a, b);
  t.equal(during.bad, 0, `beside the hung client: ${2 * IOS} verified write+read pairs in ${during.ms.toFixed(0)} ms (before: ${before.ms.toFixed(0)} ms)`);
  t.ok(during.ms <= 3 * before.ms + 2000, `within 3x + 2 s of before (${during.ms.toFixed(0)} <= ${(3 * before.ms + 2000).toFixed(0)} ms)`);
  t.ok(during.ms < 30_000, 'and under 30 s');
  t.equal(d.child.exitCode, null, 'the daemon is alive');
  await hung.close();
  await a.close();
  await b.close();
});
