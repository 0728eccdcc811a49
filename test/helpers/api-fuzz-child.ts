// One run of the JS-level API fuzzer (test/emu/api-fuzz.test.ts starts one process per
// seed, so a crash of this process is a finding, not the end of the test run).
// A seeded sequence of calls on up to three embedded controllers: open (valid and invalid
// targets and options), namespace, read/write/readBytes/flush/writeZeroes/deallocate
// with valid and invalid arguments and every kind of buffer (Buffer, views, DmaBuffer,
// PhyrArray, duck-typed and wrong types), pool alloc/free (also while IO is in flight),
// phyr arrays, batch queue pairs (setEntry/setIo/submitBatch/reap/close), buffers
// detached by structuredClone({transfer}) while their IO is queued or in flight, reset and
// close at random points. Invariants checked here:
//   - every error thrown or rejected is a PhyrError with a PHYR_... code;
//   - every promise settles within BOUND_MS;
//   - after close() every IOMMU mapping of the controller is gone;
//   - and (checked by the parent) the process neither crashes nor stays alive once every
//     controller is closed.
// The last stdout line is a JSON report.
//   node [loader] api-fuzz-child.ts SEED ITERATIONS
import * as phyr from '../../index';
import { openEmu, type EmuFunction } from '../../emu';
import type { DmaBuffer } from '../../lib/dma';
import { Rng } from './block-header';
import { within } from './io-load';

const SEED = Number(process.argv[2] ?? 1);
const ITERATIONS = Number(process.argv[3] ?? 300);
const BOUND_MS = 4000;
const rng = new Rng(SEED);

interface Live {
  fn: EmuFunction;
  ctrl: phyr.Controller;
  bufs: DmaBuffer[];
  arrays: phyr.PhyrArray[];
  qps: phyr.QueuePair[];
  /** Caller buffers handed to IO recently (candidates for detaching). */
  callerBufs: Uint8Array[];
  closing?: Promise<unknown>;
}

const live: Live[] = [];
const closed: Live[] = [];
const pending = new Map<number, { what: string; t0: number }>();
let nextPending = 0;
const violations: string[] = [];
const report = { seed: SEED, ops: 0, resolved: 0, rejected: 0, thrown: 0, codes: {} as Record<string, number>, opened: 0, closed: 0, detached: 0, violations, hangs: [] as string[] };

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}${(e as { code?: unknown }).code ? `[${String((e as { code?: unknown }).code)}]` : ''}: ${e.message.slice(0, 200)}`;
  return `${typeof e}: ${String(e)}`;
}

function checkError(what: string, e: unknown): void {
  const code = (e as { code?: unknown } | undefined)?.code;
  if (!(e instanceof phyr.PhyrError) || typeof code !== 'string' || !/^PHYR_[A-Z0-9_]+$/.test(code)) {
    violations.push(`${what}: not a PhyrError with a PHYR_ code: ${describe(e)}`);
    return;
  }
  report.codes[code] = (report.codes[code] ?? 0) + 1;
}

/** Runs one API call; tracks the promise it returns. Returns the promise (settling to undefined) or undefined. */
function attempt(what: string, f: () => unknown): Promise<void> | undefined {
  report.ops++;
  let r: unknown;
  try {
    r = f();
  } catch (e) {
    report.thrown++;
    checkError(`${what} (threw)`, e);
    return undefined;
  }
  if (!(r instanceof Promise)) return undefined;
  const id = nextPending++;
  pending.set(id, { what, t0: Date.now() });
  return r.then(
    () => {
      report.resolved++;
      pending.delete(id);
    },
    (e: unknown) => {
      report.rejected++;
      checkError(`${what} (rejected)`, e);
      pending.delete(id);
    },
  );
}

/** Awaits a tracked call sometimes (bounded), or leaves it in flight. */
async function maybeAwait(p: Promise<void> | undefined): Promise<void> {
  if (p && rng.chance(0.6)) await within(p, BOUND_MS);
}

const pick = <T>(xs: readonly T[]): T => rng.pick(xs);

const TARGETS = [
  'emu:backend=ram,size=8M',
  'emu:backend=ram,size=8M,sgl=on',
  'emu:backend=ram,size=8M,mdts=1',
  'emu:backend=ram,size=8M,lbads=12',
  'emu:backend=ram,size=8M,qsize=16',
  'emu:backend=ram,size=8M,ns=2',
  // Slow devices keep IO queued and in flight long enough for detach, free and close to meet it.
  'emu:backend=ram,size=8M,iops=2000',
  'emu:backend=ram,size=8M,latency=2ms',
];
const BAD_TARGETS: unknown[] = [123, null, undefined, {}, 'emu:bogus=1', 'emu:size=0', 'emu:size=-1', '', 'zz:00.0', 'emu:qsize=1', 'emu:backend=file:', 'emu:faults=nope'];

function options(): Record<string, unknown> {
  const o: Record<string, unknown> = { timeoutMs: pick([200, 200, 200, 500, 0, -5, Infinity, '1000', NaN, 1.5]) };
  if (rng.chance(0.3)) o.ioQueueSize = pick([1, 2, 8, 3.5, 1e6, -1, '16']);
  if (rng.chance(0.2)) o.completion = pick(['poll', 'interrupt', 'bogus', 1]);
  if (rng.chance(0.1)) o.dptr = pick(['auto', 'prp', 'sgl', 'nope']);
  if (rng.chance(0.1)) o.adminQueueSize = pick([2, 1, 0, 64, 100000]);
  return o;
}

async function opOpen(): Promise<void> {
  if (rng.chance(0.25)) {
    // phyr.open with hostile targets: must refuse with a typed error (or open, then close).
    const target = pick(BAD_TARGETS);
    const p = attempt(`open(${JSON.stringify(target)})`, async () => {
      const c = await phyr.open(target as string, options() as phyr.OpenOptions);
      await c.close();
    });
    await maybeAwait(p);
    return;
  }
  if (live.length >= 3) return;
  const target = pick(TARGETS);
  const opts = options();
  let fn: EmuFunction;
  try {
    fn = openEmu(target);
  } catch (e) {
    checkError(`openEmu(${target})`, e);
    return;
  }
  const p = attempt(`Controller.open(${target}, ${JSON.stringify(opts)})`, async () => {
    let ctrl: phyr.Controller;
    try {
      ctrl = await phyr.Controller.open(fn, opts as phyr.OpenOptions, false);
    } catch (e) {
      fn.close();
      throw e;
    }
    report.opened++;
    live.push({ fn, ctrl, bufs: [], arrays: [], qps: [], callerBufs: [] });
  });
  if (p) await within(p, BOUND_MS);
}

function anyLive(): Live | undefined {
  if (live.length === 0 || (closed.length > 0 && rng.chance(0.1))) return closed.length ? pick(closed) : undefined;
  return pick(live);
}

function lbaFor(blocks: number, len: number): unknown {
  const max = Math.max(0, blocks - len);
  return pick<unknown>([rng.below(max + 1), rng.below(max + 1), rng.below(max + 1), 0, max, -1, 1.5, NaN, '0', 2 ** 53, blocks, blocks - 1, null, 2 ** 64]);
}

function countFor(blocks: number): unknown {
  return pick<unknown>([1 + rng.below(64), 1 + rng.below(64), 1, 0, -1, 2.5, blocks, blocks + 1, 2 ** 32, '8', NaN, 0x10001]);
}

/** A buffer argument: mostly valid, sometimes hostile. */
function bufferFor(l: Live, lbaSize: number): unknown {
  const blocks = 1 + rng.below(16);
  switch (rng.below(12)) {
    case 0:
    case 1:
    case 2: {
      const b = Buffer.alloc(blocks * lbaSize, rng.below(256));
      l.callerBufs.push(b);
      return b;
    }
    case 3: {
      // A view at an odd offset into a larger ArrayBuffer.
      const ab = new ArrayBuffer(blocks * lbaSize + 64);
      const v = new Uint8Array(ab, pick([1, 3, 8, 60]), blocks * lbaSize);
      l.callerBufs.push(v);
      return v;
    }
    case 4:
      return l.bufs.length ? pick(l.bufs) : Buffer.alloc(lbaSize);
    case 5:
      if (l.bufs.length) {
        const b = pick(l.bufs);
        try {
          return b.toPhyr(0, Math.max(lbaSize, Math.floor(b.size / lbaSize) * lbaSize));
        } catch (e) {
          checkError('toPhyr', e);
          return b;
        }
      }
      return Buffer.alloc(lbaSize);
    case 6:
      return l.arrays.length ? pick(l.arrays) : new phyr.PhyrArray();
    case 7:
      // Duck-typed buffer pointing wherever it likes.
      return { iova: pick([0, 0x100000, 2 ** 47, -1, 1.5]), size: blocks * lbaSize, toPhyr: () => new phyr.PhyrArray(), bytes: Buffer.alloc(blocks * lbaSize) };
    case 8:
      return pick<unknown>([null, undefined, 'abcd', 123, {}, [], new Uint16Array(lbaSize / 2), new ArrayBuffer(lbaSize), new DataView(new ArrayBuffer(lbaSize))]);
    case 9:
      return Buffer.alloc(pick([0, 1, 100, lbaSize - 1, lbaSize + 1]));
    case 10: {
      // Already detached.
      const b = new Uint8Array(blocks * lbaSize);
      structuredClone(b.buffer, { transfer: [b.buffer] });
      return b;
    }
    default: {
      const b = Buffer.alloc(pick([64, 256, 1024]) * 1024);
      l.callerBufs.push(b);
      return b;
    }
  }
}

function ioOptions(): unknown {
  return pick<unknown>([undefined, undefined, { fua: true }, { fua: false }, null, { fua: 'yes' }, 7]);
}

async function opIo(): Promise<void> {
  const l = anyLive();
  if (!l) return;
  const nsid = rng.chance(0.9) ? 1 : pick<unknown>([0, 2, 3, '1', -1, 1.5, NaN, null]);
  let ns: phyr.Namespace | undefined;
  attempt(`namespace(${String(nsid)})`, () => {
    ns = l.ctrl.namespace(nsid as number);
  });
  if (!ns) return;
  const n = ns;
  const kind = rng.below(8);
  let p: Promise<void> | undefined;
  if (kind <= 2) {
    const buf = bufferFor(l, n.lbaSize);
    const lba = lbaFor(n.blocks, 16);
    const op = kind === 0 ? 'read' : 'write';
    p = attempt(`${op}(${String(lba)})`, () => (op === 'read' ? n.read(lba as number, buf as phyr.IoBuffer, ioOptions() as phyr.IoOptions) : n.write(lba as number, buf as phyr.IoBuffer, ioOptions() as phyr.IoOptions)));
    if (buf instanceof Uint8Array && rng.chance(0.15)) {
      // Detach the caller's buffer while its IO is queued (same tick) or in flight (next turn).
      if (rng.chance(0.5)) await new Promise((res) => setImmediate(res));
      detach(buf);
      // Reuse of freed memory is what turns a use-after-free into visible damage.
      if (rng.chance(0.5)) Buffer.alloc(buf.byteLength || 4096, 0x5a);
    }
  } else if (kind === 3) {
    const off = pick<unknown>([rng.below(n.blocks * n.lbaSize - 8192), 0, 1, -1, 1.5, '3', n.blocks * n.lbaSize]);
    const buf = pick<unknown>([Buffer.alloc(1 + rng.below(5000)), Buffer.alloc(0), l.bufs.length ? pick(l.bufs) : Buffer.alloc(7), null, 'x']);
    p = attempt(`readBytes(${String(off)})`, () => n.readBytes(off as number, buf as Uint8Array));
  } else if (kind === 4) {
    p = attempt('flush()', () => n.flush());
  } else if (kind === 5) {
    const lba = lbaFor(n.blocks, 64);
    const count = countFor(n.blocks);
    p = attempt(`writeZeroes(${String(lba)}, ${String(count)})`, () => n.writeZeroes(lba as number, count as number));
  } else if (kind === 6) {
    const lba = lbaFor(n.blocks, 64);
    const count = countFor(n.blocks);
    p = attempt(`deallocate(${String(lba)}, ${String(count)})`, () => n.deallocate(lba as number, count as number));
  } else {
    const arg = pick<unknown>([l.bufs.length ? pick(l.bufs) : new phyr.PhyrArray(), l.arrays.length ? pick(l.arrays) : new phyr.PhyrArray(), Buffer.alloc(512), null, {}, 5]);
    attempt('explain()', () => n.explain(arg as phyr.PhyrArray));
  }
  await maybeAwait(p);
}

function opPool(): void {
  const l = anyLive();
  if (!l) return;
  if (l.bufs.length && rng.chance(0.4)) {
    const b = pick(l.bufs);
    // May free a buffer whose IO is in flight, or one already freed.
    attempt('DmaBuffer.free()', () => b.free());
    if (rng.chance(0.7)) l.bufs.splice(l.bufs.indexOf(b), 1);
    return;
  }
  const size = pick<unknown>([512, 4096, 8192, 65536, 1 + rng.below(100000), 0, -1, 1.5, 2 ** 40, '4096', NaN]);
  const align = rng.chance(0.2) ? pick<unknown>([4096, 8192, 3, 0, -4096, 2 ** 30]) : undefined;
  attempt(`pool.alloc(${String(size)}, ${String(align)})`, () => {
    const b = l.ctrl.pool.alloc(size as number, align === undefined ? undefined : { align: align as number });
    if (l.bufs.length < 16) l.bufs.push(b);
    else b.free();
  });
}

function opPhyr(): void {
  const l = anyLive();
  if (!l) return;
  if (l.arrays.length && rng.chance(0.6)) {
    const a = pick(l.arrays);
    if (rng.chance(0.2)) {
      attempt('PhyrArray.clear()', () => a.clear());
      return;
    }
    const src = l.bufs.length ? pick(l.bufs) : undefined;
    const addr = pick<unknown>([src ? src.iova : 0x100000, src ? src.iova + 512 : 0x200000, 0, -1, 1.5, 2 ** 64, 2n ** 63n, 'x', 0x100003]);
    const len = pick<unknown>([512, 4096, src ? src.size : 4096, 0, -1, 2 ** 32, 1.5, 3]);
    const flags = pick<unknown>([0, 0, 1, 2, 4, 8, 16, 0xffff, -1]);
    attempt(`PhyrArray.push(${String(addr)}, ${String(len)}, ${String(flags)})`, () => a.push(addr as number, len as number, flags as number));
    return;
  }
  const capacity = pick<unknown>([undefined, 0, 1, 16, -1, 1.5, 2 ** 31, '8', NaN]);
  attempt(`new PhyrArray(${String(capacity)})`, () => {
    const a = new phyr.PhyrArray({ capacity: capacity as number, dwordAligned: rng.chance(0.2) });
    if (l.arrays.length < 8) l.arrays.push(a);
  });
}

/** Detaches a caller buffer that was handed to IO (its read or write may be queued or in flight). */
function opDetach(): void {
  const l = anyLive();
  if (!l || !l.callerBufs.length) return;
  const b = l.callerBufs.splice(rng.below(l.callerBufs.length), 1)[0];
  detach(b);
  if (l.callerBufs.length > 32) l.callerBufs.splice(0, l.callerBufs.length - 32);
}

function detach(b: Uint8Array): void {
  if (b.buffer.byteLength === 0) return;
  try {
    structuredClone(b.buffer, { transfer: [b.buffer as ArrayBuffer] });
    report.detached++;
  } catch {
    // The library may refuse the transfer (a pinned buffer): that is one of the allowed designs.
  }
}

async function opQueuePair(): Promise<void> {
  const l = anyLive();
  if (!l) return;
  if (!l.qps.length || rng.chance(0.2)) {
    const size = pick<unknown>([undefined, 2, 16, 64, 1, 0, 70000, 'x', 2.5]);
    const p = attempt(`createQueuePair(${String(size)})`, async () => {
      const qp = await l.ctrl.createQueuePair({ size: size as number, dptr: rng.chance(0.1) ? ('x' as 'auto') : undefined });
      if (l.qps.length < 3) l.qps.push(qp);
      else await qp.close();
    });
    await maybeAwait(p);
    return;
  }
  const qp = pick(l.qps);
  switch (rng.below(5)) {
    case 0: {
      const src = l.bufs.length ? pick(l.bufs) : undefined;
      const idx = pick<unknown>([0, 1, rng.below(64), -1, 1e9, 1.5]);
      const addr = pick<unknown>([src ? src.iova : 0x100000, 0, 2 ** 47, -1, NaN]);
      const len = pick<unknown>([src ? src.size : 4096, 512, 0, 2 ** 32, -1]);
      attempt(`qp.setEntry(${String(idx)}, ${String(addr)}, ${String(len)})`, () => qp.setEntry(idx as number, addr as number, len as number, pick([0, 1, 0xff])));
      break;
    }
    case 1: {
      const slot = pick<unknown>([0, 1, rng.below(qp.slots), qp.slots, -1, 1e9, 'a']);
      const opcode = pick<unknown>([phyr.NVME.IO_READ, phyr.NVME.IO_WRITE, phyr.NVME.IO_FLUSH, 0x7f, 0xff, -1]);
      attempt(`qp.setIo(${String(slot)}, ${String(opcode)})`, () =>
        qp.setIo(slot as number, opcode as number, pick([1, 1, 0, 99, 0xffffffff]), pick([0, 8, 2 ** 40, -1]), pick([1, 8, 0, 70000, -1]), pick([512, 4096, 0, 3]), pick([0, 1, 60, -1]), pick([1, 0, 2, 1000, -1]), rng.below(1 << 16)),
      );
      break;
    }
    case 2: {
      const n = pick<unknown>([1, 1, 2, 8, 0, qp.slots + 1, -1, 1e9]);
      attempt(`qp.submitBatch(0, ${String(n)})`, () => qp.submitBatch(pick([0, 0, 1, -1]), n as number));
      break;
    }
    case 3:
      attempt('qp.reap()', () => qp.reap(pick<number | undefined>([undefined, 1, 0, -1, 1e9])));
      break;
    default: {
      const p = attempt('qp.close()', () => qp.close());
      if (rng.chance(0.7)) l.qps.splice(l.qps.indexOf(qp), 1);
      await maybeAwait(p);
    }
  }
}

async function opReset(): Promise<void> {
  const l = anyLive();
  if (!l) return;
  await maybeAwait(attempt('reset()', () => l.ctrl.reset()));
}

/** Closes a controller (sometimes with IO in flight); checks its mappings are gone afterwards. */
async function opClose(l = anyLive()): Promise<void> {
  if (!l) return;
  const idx = live.indexOf(l);
  if (idx < 0) {
    // Closed already: close again must be harmless.
    await maybeAwait(attempt('close() again', () => l.ctrl.close()));
    return;
  }
  live.splice(idx, 1);
  closed.push(l);
  const p = attempt('close()', () => l.ctrl.close());
  l.closing = (p ?? Promise.resolve()).then(() => {
    report.closed++;
    let maps = -1;
    try {
      maps = l.fn.mappingCount();
    } catch (e) {
      violations.push(`mappingCount after close: ${describe(e)}`);
    }
    if (maps !== 0) violations.push(`after close() the controller still has ${maps} IOMMU mappings`);
    l.fn.close();
  });
  if (rng.chance(0.5)) await within(l.closing, BOUND_MS);
}

function opPoll(): void {
  const l = anyLive();
  if (l) attempt('poll()', () => l.ctrl.poll());
}

function checkHangs(now: number): void {
  for (const [id, p] of pending) {
    if (now - p.t0 > BOUND_MS) {
      report.hangs.push(`${p.what}: unsettled after ${now - p.t0} ms`);
      pending.delete(id);
    }
  }
}

async function main(): Promise<void> {
  const ops: Array<[number, () => void | Promise<void>]> = [
    [6, opOpen],
    [40, opIo],
    [10, opPool],
    [8, opPhyr],
    [6, opDetach],
    [10, opQueuePair],
    [3, opReset],
    [3, () => opClose()],
    [4, opPoll],
  ];
  const total = ops.reduce((s, [w]) => s + w, 0);
  for (let i = 0; i < ITERATIONS; i++) {
    let r = rng.below(total);
    const op = ops.find(([w]) => (r -= w) < 0) as [number, () => void | Promise<void>];
    await op[1]();
    if (rng.chance(0.1)) await new Promise((res) => setImmediate(res));
    checkHangs(Date.now());
  }
  // Close everything; every call made must settle.
  while (live.length) await opClose(live[0]);
  for (const l of closed) if (l.closing) await within(l.closing, BOUND_MS * 2);
  const end = Date.now() + BOUND_MS;
  while (pending.size && Date.now() < end) await new Promise((res) => setTimeout(res, 10));
  checkHangs(Infinity);
  process.stdout.write(`\n${JSON.stringify(report)}\n`);
}

main().catch((e: unknown) => {
  violations.push(`the fuzzer itself failed: ${describe(e)} ${(e as Error)?.stack ?? ''}`);
  process.stdout.write(`\n${JSON.stringify(report)}\n`);
  process.exitCode = 2;
});
