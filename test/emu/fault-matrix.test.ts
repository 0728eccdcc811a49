// The fault matrix: every fault the embedded controller can inject (docs/EMULATOR.md,
// emu/faults.ts) x each phase (idle, under load, during reset, during close) -> the
// outcome docs/DRIVER.md documents, within a bounded time:
//   - every promise settles (IO, reset(), ready(), close()); nothing hangs;
//   - every IO error is a typed PhyrError of the classes the cell allows (a fault's own
//     error, the reset errors while the driver recovers, ControllerClosedError once close()
//     began) — an IO cut off by close() is a closed-controller error, never "Command
//     Aborted due to SQ Deletion";
//   - a fault that goes away (one-shot, or cleared) leaves a working controller; a fault
//     that recurs on every command (cfs:after=N) gets a bounded number of resets, then the
//     controller is dead and every IO rejects with ControllerDeadError (naming the CSTS.CFS); a removed device
//     fails every IO with DeviceGoneError; close() always completes;
//   - reads that succeed return what was acknowledged (except under `corrupt`, whose
//     documented outcome is exactly the inverted byte), and 0 acknowledged writes are lost:
//     the region is read back block by block (self-describing headers) after the fault is
//     cleared, through a fresh controller on the same medium (ram backend; the file backend
//     for `remove`, which is permanent).
// A second controller (the bystander) does IO after every cell: a fault on one controller
// never disturbs another.
import t from 'tap';
import type { Test } from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as phyr from '../../index';
import { openEmu, type EmuFunction } from '../../emu';
import { IoLoad, call, errorName, verifyRegion, within, type LoadReport } from '../helpers/io-load';
import { fillBlock, parseBlock } from '../helpers/block-header';

const TIMEOUT_MS = 200; // per-command timeout of the controllers under test
const HANG_MS = 3000; // a call still unsettled after this is a hang
const DEAD_MS = 6000; // bounded resets with backoff, then dead: within this
const MAX_RESETS = 8; // more automatic resets than this for one recurring fault is unbounded
const REGION = { base: 0, blocks: 1024 };
const HOT_LBA = 300; // the LBA fail:lba and corrupt rules aim at
const SIZE = '16M';

type Phase = 'idle' | 'load' | 'reset' | 'close';
const PHASES: Phase[] = ['idle', 'load', 'reset', 'close'];

/** What a fault does, as documented: which errors IO may see, and what is left afterwards. */
interface FaultRow {
  name: string;
  /** Run-time spec for fn.inject(). */
  inject: string;
  /** IO errors the fault itself causes (errorName() spellings). */
  errors: string[];
  /** A phase-dependent requirement that the fault was seen at all (so no cell passes vacuously). */
  observe?: (r: LoadReport, phase: Phase, resets: number) => boolean;
  /** What the observation is, for messages. */
  observeText?: string;
  /** The controller afterwards: works again (after clear), or dead with this error. */
  after: 'recovers' | { dead: string };
  /** The fault resets the controller (so reset errors are allowed in every phase). */
  resets: boolean;
  backend: 'ram' | 'file';
}

const sawError = (names: string[]) => (r: LoadReport) => names.some((n) => (r.errors.get(n) ?? 0) > 0);

const ROWS: FaultRow[] = [
  {
    name: 'fail:nth',
    inject: 'fail:nth=5:op=write',
    errors: ['NvmeStatusError(0x6)'],
    observe: sawError(['NvmeStatusError(0x6)']),
    observeText: 'an Internal Error status on a write',
    after: 'recovers',
    resets: false,
    backend: 'ram',
  },
  {
    name: 'fail:lba',
    inject: `fail:lba=${HOT_LBA}:status=0x281`,
    errors: ['NvmeStatusError(0x281)'],
    observe: sawError(['NvmeStatusError(0x281)']),
    observeText: 'an Unrecovered Read Error on the LBA',
    after: 'recovers',
    resets: false,
    backend: 'ram',
  },
  {
    name: 'drop',
    inject: 'drop:nth=5',
    errors: ['NvmeTimeoutError'],
    observe: sawError(['NvmeTimeoutError']),
    observeText: 'a timeout error for the lost completion',
    after: 'recovers',
    resets: true,
    backend: 'ram',
  },
  {
    name: 'delay (shorter than the timeout)',
    inject: 'delay:time=30ms:nth=3',
    errors: [],
    after: 'recovers',
    resets: false,
    backend: 'ram',
  },
  {
    name: 'delay (longer than the timeout)',
    inject: 'delay:time=2s:nth=4:op=read',
    errors: ['NvmeTimeoutError'],
    observe: sawError(['NvmeTimeoutError']),
    observeText: 'a timeout error for the held read',
    after: 'recovers',
    resets: true,
    backend: 'ram',
  },
  {
    name: 'cfs',
    inject: 'cfs',
    errors: [],
    observe: (_r, phase, resets) => phase === 'reset' || resets >= 1,
    observeText: 'an automatic reset',
    after: 'recovers',
    resets: true,
    backend: 'ram',
  },
  {
    name: 'cfs:after (recurs on every command)',
    inject: 'cfs:after=10',
    errors: ['ControllerFatalError', 'ControllerDeadError'],
    observe: sawError(['ControllerDeadError']),
    observeText: 'the controller declared dead',
    after: { dead: 'ControllerDeadError' },
    resets: true,
    backend: 'ram',
  },
  {
    name: 'stop/resume',
    inject: 'stop:qid=1',
    errors: ['NvmeTimeoutError'],
    observe: sawError(['NvmeTimeoutError']),
    observeText: 'a timeout error for the unfetched command',
    after: 'recovers',
    resets: true,
    backend: 'ram',
  },
  {
    name: 'corrupt',
    inject: `corrupt:lba=${HOT_LBA}`,
    errors: [],
    after: 'recovers',
    resets: false,
    backend: 'ram',
  },
  {
    name: 'remove (surprise removal)',
    inject: 'remove',
    errors: ['DeviceGoneError'],
    observe: sawError(['DeviceGoneError']),
    observeText: 'a device-gone error',
    after: { dead: 'DeviceGoneError' },
    resets: false,
    backend: 'file',
  },
];

const RESET_ERRORS = ['ControllerResetError', 'ControllerResettingError'];

/** The IO errors a cell allows. */
function allowedErrors(row: FaultRow, phase: Phase): Set<string> {
  const s = new Set(row.errors);
  if (row.resets || phase === 'reset') for (const e of RESET_ERRORS) s.add(e);
  if (phase === 'close') s.add('ControllerClosedError');
  if (typeof row.after === 'object') s.add(row.after.dead);
  return s;
}

let cellSeq = 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fault-matrix-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

function targetOf(row: FaultRow, image: string): string {
  return `emu:backend=${row.backend === 'file' ? `file:${image}` : 'ram'},size=${SIZE}`;
}

/** Writes the region once (known contents before the fault), sequentially, through `ns`. */
async function prefill(ns: phyr.Namespace, acked: Float64Array, seqBase: number): Promise<number> {
  const lbaSize = ns.lbaSize;
  const buf = Buffer.alloc(REGION.blocks * lbaSize);
  const seq = seqBase + 1;
  for (let i = 0; i < REGION.blocks; i++) fillBlock(buf.subarray(i * lbaSize, (i + 1) * lbaSize), REGION.base + i, seq);
  await ns.write(REGION.base, buf);
  acked.fill(seq);
  return seq;
}

const bystander = (async () => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs: 1000 });
  t.teardown(() => ctrl.close());
  return ctrl;
})();

async function bystanderWorks(): Promise<string | undefined> {
  const ctrl = await bystander;
  const ns = ctrl.namespace(1);
  const block = Buffer.alloc(ns.lbaSize);
  const n = ++cellSeq;
  fillBlock(block, 7, n);
  const w = await within(ns.write(7, block), HANG_MS);
  if (!w.settled || w.error) return `write: ${w.settled ? String(w.error) : 'hung'}`;
  const back = Buffer.alloc(ns.lbaSize);
  const r = await within(ns.read(7, back), HANG_MS);
  if (!r.settled || r.error) return `read: ${r.settled ? String(r.error) : 'hung'}`;
  const p = parseBlock(back);
  return p.state === 'ok' && p.seq === n ? undefined : `read back ${JSON.stringify(p)}`;
}

// PHYR_MATRIX_ONLY=text runs the rows whose name contains it (all by default).
const only = process.env.PHYR_MATRIX_ONLY ?? '';
for (const row of ROWS.filter((r) => r.name.includes(only))) {
  t.test(`fault ${row.name}`, async (t) => {
    for (const phase of PHASES) {
      await t.test(`phase ${phase}`, (t) => runCell(t, row, phase));
    }
  });
}

async function runCell(t: Test, row: FaultRow, phase: Phase): Promise<void> {
  const image = path.join(tmp, `cell-${++cellSeq}.img`);
  const target = targetOf(row, image);
  const cell: Cell = { fn: openEmu(target) };
  try {
    cell.ctrl = await phyr.Controller.open(cell.fn, { timeoutMs: TIMEOUT_MS }, false);
    await cellBody(t, row, phase, target, cell, cell.ctrl);
  } finally {
    await cell.load?.stop();
    // Whatever failed above, leave nothing running: close (bounded) and release the function.
    if (cell.ctrl && !cell.ctrl.closed) await within(cell.ctrl.close(), HANG_MS);
    cell.fn.close();
  }
  const by = await bystanderWorks();
  t.equal(by, undefined, 'another controller keeps working');
}

interface Cell {
  fn: EmuFunction;
  ctrl?: phyr.Controller;
  load?: IoLoad;
}

async function cellBody(t: Test, row: FaultRow, phase: Phase, target: string, cell: Cell, ctrl: phyr.Controller): Promise<void> {
  let { fn } = cell;
  const ns = ctrl.namespace(1);
  const acked = new Float64Array(REGION.blocks);
  const seqBase = cellSeq * 1e6;
  await prefill(ns, acked, seqBase);
  const allowed = allowedErrors(row, phase);
  const load = (cell.load = new IoLoad(ns, { ...REGION, writers: phase === 'idle' ? 1 : 6, readers: phase === 'idle' ? 1 : 3, maxBlocks: 8, seed: 1000 + cellSeq, seqBase: seqBase + 10, hangMs: HANG_MS, flushEvery: 16 }, acked));
  const resetsBefore = ctrl.recovery.resets;
  const t0 = Date.now();
  let resetOutcome: Awaited<ReturnType<typeof within>> | undefined;
  let closeOutcome: Awaited<ReturnType<typeof within>> | undefined;
  let closeStarted = false;

  if (phase === 'idle') {
    // Nothing in flight when the fault arrives; then a trickle of IO meets it.
    fn.inject(row.inject);
    load.start();
  } else if (phase === 'load') {
    load.start();
    await load.until((r) => r.ok >= 40, 2000);
    fn.inject(row.inject);
  } else if (phase === 'reset') {
    load.start();
    await load.until((r) => r.ok >= 40, 2000);
    const c = call(() => ctrl.reset());
    fn.inject(row.inject); // while the reset runs
    resetOutcome = await within(c.p, DEAD_MS);
    t.ok(resetOutcome.settled, `reset() settles (${resetOutcome.settled ? (resetOutcome.error ? errorName(resetOutcome.error) : 'resolved') : 'hung'})`);
  } else {
    load.start();
    await load.until((r) => r.ok >= 40, 2000);
    fn.inject(row.inject);
    closeStarted = true;
    closeOutcome = await within(call(() => ctrl.close()).p, HANG_MS);
  }

  // Let the fault take effect: until it was observed (or the controller is dead), bounded.
  const dead = typeof row.after === 'object' ? row.after.dead : undefined;
  if (phase !== 'close') {
    const seen = (r: LoadReport): boolean => (row.observe ? row.observe(r, phase, ctrl.recovery.resets - resetsBefore) : r.ok >= 80) && (!dead || (r.errors.get(dead) ?? 0) > 0);
    const observed = await load.until(seen, dead ? DEAD_MS : HANG_MS);
    t.ok(observed, `the fault is seen: ${row.observeText ?? 'IO keeps completing'} (after ${Date.now() - t0} ms; errors ${JSON.stringify([...load.report.errors])}, resets ${ctrl.recovery.resets - resetsBefore})`);
  }
  const report = await load.stop();

  // Every call settled, with a typed error the cell allows.
  t.same(report.hangs, [], 'every IO call settled');
  t.same(report.untyped.map(String), [], 'every IO error is a PhyrError with a PHYR_ code');
  const unexpected = [...report.errors].filter(([name]) => !allowed.has(name));
  t.same(unexpected, [], `IO errors are among the documented ones (${[...allowed].join(', ') || 'none'}); seen ${JSON.stringify([...report.errors])}`);
  if (row.name === 'corrupt') {
    // Documented outcome: silent corruption of the read data only (byte 0 of the block inverted).
    t.ok(report.badReads.every((b) => b.startsWith(`LBA ${HOT_LBA}:`)), `only LBA ${HOT_LBA} reads back corrupt: ${JSON.stringify(report.badReads.slice(0, 3))}`);
  } else {
    t.same(report.badReads, [], 'every successful read returned what was acknowledged');
  }
  // A lost or held completion surfaces after timeoutMs (plus the timer's tick and the
  // scheduling of a loaded 2-core machine), not after a second timeout period.
  if (row.errors.includes('NvmeTimeoutError') && phase !== 'close' && report.timeoutLatencies.length) {
    const worst = Math.max(...report.timeoutLatencies);
    t.ok(worst < 2 * TIMEOUT_MS - 10, `a timed-out command rejects within ~timeoutMs: slowest after ${worst} ms (timeout ${TIMEOUT_MS} ms)`);
  }
  if (!row.resets && phase !== 'reset') t.equal(ctrl.recovery.resets - resetsBefore, 0, 'no reset for a fault that needs none');
  if (row.resets && dead) t.ok(ctrl.recovery.resets - resetsBefore <= MAX_RESETS, `resets are bounded: ${ctrl.recovery.resets - resetsBefore} (at most ${MAX_RESETS})`);

  // What is left of the controller.
  if (phase !== 'close') {
    if (dead) {
      const r = await within(call(() => ns.read(0, Buffer.alloc(ns.lbaSize))).p, HANG_MS);
      t.ok(r.settled && r.error !== undefined && errorName(r.error) === dead, `a later IO rejects with ${dead} (${r.settled ? errorName(r.error) : 'hung'})`);
    } else {
      if (row.name === 'corrupt') await checkCorruptRead(t, ns, acked);
      fn.inject('clear');
      const ready = await within(ctrl.ready(), HANG_MS);
      t.ok(ready.settled, 'ready() settles');
      const blk = Buffer.alloc(ns.lbaSize);
      fillBlock(blk, REGION.base + REGION.blocks - 1, load.seq + 1);
      const w = await within(call(() => ns.write(REGION.base + REGION.blocks - 1, blk)).p, HANG_MS);
      t.ok(w.settled && w.error === undefined, `the controller works again after the fault is cleared (${w.settled ? (w.error ? errorName(w.error) : 'ok') : 'hung'})`);
      if (w.settled && w.error === undefined) acked[REGION.blocks - 1] = load.seq + 1;
      load.seq++;
    }
    closeStarted = true;
    closeOutcome = await within(call(() => ctrl.close()).p, HANG_MS);
  }
  t.ok(closeOutcome?.settled && closeOutcome.error === undefined, `close() completes (${closeOutcome?.settled ? (closeOutcome.error ? errorName(closeOutcome.error) : 'resolved') : 'hung'})`);
  if (closeStarted && closeOutcome?.settled) {
    const after = await within(call(() => ns.read(0, Buffer.alloc(ns.lbaSize))).p, HANG_MS);
    t.equal(after.settled ? errorName(after.error) : 'hung', 'ControllerClosedError', 'IO after close() rejects with ControllerClosedError');
  }

  // 0 acknowledged writes lost: read the region back through a fresh controller.
  if (closeOutcome?.settled) {
    if (row.backend === 'file') {
      fn.close();
      fn = cell.fn = openEmu(target);
    } else fn.inject('clear');
    const check = await phyr.Controller.open(fn, { timeoutMs: 2000 }, false);
    try {
      const v = await verifyRegion(check.namespace(1), REGION.base, acked, load.seq);
      t.same(v.problems.slice(0, 10), [], `0 of ${v.checked} acknowledged blocks lost or torn (${report.ok} calls succeeded)`);
    } finally {
      await check.close();
    }
  } else {
    t.fail('the acknowledged writes cannot be read back: close() never completed');
  }
}

// corrupt:lba=L (docs/EMULATOR.md): the Read completes with success, byte 0 of block L
// reaches host memory inverted; nothing stored changes.
async function checkCorruptRead(t: Test, ns: phyr.Namespace, acked: Float64Array): Promise<void> {
  const buf = Buffer.alloc(ns.lbaSize);
  const r = await within(call(() => ns.read(REGION.base + HOT_LBA, buf)).p, HANG_MS);
  t.ok(r.settled && r.error === undefined, 'the corrupted read completes with success');
  const expect = Buffer.alloc(ns.lbaSize);
  fillBlock(expect, REGION.base + HOT_LBA, acked[HOT_LBA]);
  const diff = [...buf].map((b, i) => (b !== expect[i] ? `${i}:${(b ^ expect[i]).toString(16)}` : '')).filter(Boolean);
  // Any later unacknowledged write at that LBA would change the whole block; none runs now.
  t.same(diff, ['0:ff'], 'exactly byte 0 of the block arrives inverted');
}
