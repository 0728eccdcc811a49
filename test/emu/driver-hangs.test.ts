// IO of any valid size completes: an IO that needs more commands than its queue has
// trackers (MDTS, the 16-bit NLB field, PRP-breaking boundaries) is submitted in parts
// that fit, and a pending IO keeps the process alive until it settles. Every case here
// hung (never settled, wedging the queue) before.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as path from 'path';
import * as phyr from '../../index';
import { within } from '../helpers/settle';


function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE((i * 2654435761 + seed) >>> 0, i);
  return b;
}

t.test('mdts=1: an 8 MiB write and read (1024 commands, queue capacity 768)', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=64M,mdts=1');
  t.teardown(() => ctrl.close());
  const ns = ctrl.namespace(1);
  const data = pattern(8 << 20, 1);
  await within(30_000, 'the 8 MiB write', ns.write(8, data));
  const back = Buffer.alloc(data.length);
  await within(30_000, 'the 8 MiB read', ns.read(8, back));
  t.ok(back.equals(data), 'read back what was written');
  // The queue is not wedged: ordinary IO still completes, several at once.
  await within(10_000, 'IO after the split', Promise.all([0, 1, 2, 3].map((i) => ns.write(i * 8, Buffer.alloc(4096, i)))));
  t.equal(ctrl.ioDispatcher().outstanding, 0);
});

t.test('the default MDTS: a 390 MiB write and read (more than 65536 blocks per request, more commands than trackers)', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=512M');
  t.teardown(() => ctrl.close());
  const ns = ctrl.namespace(1);
  const data = pattern(390 << 20, 2);
  await within(60_000, 'the 390 MiB write', ns.write(0, data));
  const back = Buffer.alloc(data.length);
  await within(60_000, 'the 390 MiB read', ns.read(0, back));
  t.ok(back.equals(data), 'read back what was written');
  t.equal(ctrl.ioDispatcher().outstanding, 0);
});

t.test('one 2 GiB phyr entry (a pool buffer) is written and read', async (t) => {
  const ctrl = await phyr.open('emu:backend=null,size=3G');
  t.teardown(() => ctrl.close());
  const ns = ctrl.namespace(1);
  const buf = ctrl.pool.alloc(2 ** 31);
  t.teardown(() => buf.free());
  const one = buf.toPhyr(0, 2 ** 31);
  t.equal(one.length, 1, 'a single entry');
  await within(60_000, 'the 2 GiB write', ns.write(0, one));
  await within(60_000, 'the 2 GiB read', ns.read(0, one));
  t.equal(ctrl.ioDispatcher().outstanding, 0);
});

t.test('a tiny queue (capacity 6) takes IO of 64 commands, and IO queued behind it', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M,mdts=1', { ioQueueSize: 8 });
  t.teardown(() => ctrl.close());
  const ns = ctrl.namespace(1);
  t.equal(ctrl.ioDispatcher().qp.capacity, 6);
  const big = pattern(512 << 10, 2);
  const small = pattern(4096, 3);
  const results = await within(30_000, 'IO on the tiny queue', Promise.allSettled([ns.write(0, big), ns.write(2048, small), ns.write(4096, big)]));
  t.same(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled']);
  const back = Buffer.alloc(big.length);
  await within(30_000, 'read', ns.read(4096, back));
  t.ok(back.equals(big));
});

t.test('a phyr array of 2000 non-contiguous pages (mdts=1: 1000 commands)', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=64M,mdts=1');
  t.teardown(() => ctrl.close());
  const ns = ctrl.namespace(1);
  const pages = 2000;
  const pool = ctrl.pool.alloc(2 * pages * 4096, { align: 4096 });
  const arr = new phyr.PhyrArray();
  const want = pattern(pages * 4096, 4);
  for (let i = 0; i < pages; i++) {
    arr.push(pool.iova + 2 * i * 4096, 4096);
    want.copy(pool.bytes, 2 * i * 4096, i * 4096, (i + 1) * 4096);
  }
  await within(30_000, 'the phyr-array write', ns.write(0, arr));
  const back = Buffer.alloc(want.length);
  await within(30_000, 'the read', ns.read(0, back));
  t.ok(back.equals(want), 'the device saw the pages in order');
  pool.bytes.fill(0);
  await within(30_000, 'the phyr-array read', ns.read(0, arr));
  let ok = true;
  for (let i = 0; i < pages && ok; i++) ok = Buffer.from(pool.bytes.buffer, pool.bytes.byteOffset + 2 * i * 4096, 4096).equals(want.subarray(i * 4096, (i + 1) * 4096));
  t.ok(ok, 'read back into the scattered pages');
  pool.free();
});

t.test('PRP-breaking boundaries: 1000 separate 512-byte blocks without SGL (1000 commands)', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M');
  t.teardown(() => ctrl.close());
  const ns = ctrl.namespace(1);
  const n = 1000;
  const mem = ctrl.pool.alloc(n * 1024, { align: 4096 });
  const arr = new phyr.PhyrArray();
  const want = pattern(n * 512, 5);
  for (let i = 0; i < n; i++) {
    arr.push(mem.iova + i * 1024, 512);
    want.copy(mem.bytes, i * 1024, i * 512, (i + 1) * 512);
  }
  t.equal(ns.explain(arr).format, 'split');
  await within(30_000, 'the write', ns.write(100, arr));
  const back = Buffer.alloc(want.length);
  await within(30_000, 'the read', ns.read(100, back));
  t.ok(back.equals(want));
  mem.free();
});

t.test('readBytes through a bounce buffer of 1800 commands (mdts=1, no bit buckets)', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=64M,mdts=1');
  t.teardown(() => ctrl.close());
  const ns = ctrl.namespace(1);
  const data = pattern(8 << 20, 6);
  await within(30_000, 'write', ns.write(0, data));
  const got = Buffer.alloc((7 << 20) + 333);
  await within(30_000, 'readBytes', ns.readBytes(1000, got));
  t.ok(got.equals(data.subarray(1000, 1000 + got.length)), 'the bytes asked for, in place');
});

t.test('an error in one part fails the whole IO once; the queue goes on', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=64M,mdts=1,faults=fail:lba=5000:status=0x281');
  t.teardown(() => ctrl.close());
  const ns = ctrl.namespace(1);
  const err = await within(30_000, 'the failing write', ns.read(0, Buffer.alloc(8 << 20)).then(() => undefined, (e: unknown) => e));
  t.type(err, phyr.NvmeStatusError);
  t.match((err as Error).message, /Unrecovered Read Error/);
  await within(10_000, 'IO after', ns.read(0, Buffer.alloc(4096)));
});

const fixture = path.join(__dirname, 'fixtures', 'await-one-io.ts');
function runChild(args: string[]): { status: number | null; stdout: string; stderr: string; ms: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [...process.execArgv, fixture, ...args], { encoding: 'utf8', timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

t.test('a process awaiting one big IO and nothing else prints its result, then exits 0', async (t) => {
  const r = runChild(['emu:backend=ram,size=64M,mdts=1', String(8 << 20)]);
  t.equal(r.status, 0, `exit status (stderr: ${r.stderr.slice(-300)})`);
  t.equal(r.stdout, `written ${8 << 20}\n`, 'the awaited write settled before exit');
});

t.test('poller manual, never polled: the pending IO keeps the process alive until its timeout', async (t) => {
  const r = runChild(['emu:backend=ram,size=16M', '4096', 'manual', '200']);
  t.equal(r.status, 0, `exit status (stderr: ${r.stderr.slice(-300)})`);
  t.equal(r.stdout, 'rejected PHYR_NVME_TIMEOUT\n', 'the IO settled (timed out) before the process exited');
});
