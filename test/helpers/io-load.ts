// An IO load for fault tests: writers put self-describing blocks (block-header.js) on a
// region of a namespace, readers read ranges nobody is writing and check what they get
// against what was acknowledged, and every call is timed so a promise that never
// settles is reported instead of hanging the test. What was acknowledged can be checked
// afterwards with verifyRegion() through any controller that sees the same medium.
import type { Namespace } from '../../drivers/nvme/namespace';
import { PhyrError } from '../../lib/errors';
import { Rng, fillBlock, parseBlock } from './block-header';

/** How one call ended. */
export interface Outcome {
  op: string;
  ms: number;
  error?: unknown;
}

/** A promise that settles within `ms`, or says it did not. */
export async function within<T>(p: Promise<T>, ms: number): Promise<{ settled: true; value?: T; error?: unknown } | { settled: false }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<{ settled: false }>((r) => (timer = setTimeout(() => r({ settled: false }), ms)));
  try {
    return await Promise.race([p.then((value) => ({ settled: true as const, value }), (error: unknown) => ({ settled: true as const, error })), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Calls `f` and turns a synchronous throw into a rejection (counted apart by the caller). */
export function call<T>(f: () => Promise<T>): { p: Promise<T>; threw: boolean } {
  try {
    return { p: f(), threw: false };
  } catch (e) {
    return { p: Promise.reject(e), threw: true };
  }
}

/** Short name of an error for tallies: the class name, plus the status for NvmeStatusError. */
export function errorName(e: unknown): string {
  if (!(e instanceof Error)) return `non-Error ${typeof e}: ${String(e)}`;
  const s = (e as { status?: number }).status;
  return e.constructor.name === 'NvmeStatusError' && typeof s === 'number' ? `NvmeStatusError(0x${s.toString(16)})` : e.constructor.name;
}

/** Options of a load. */
export interface LoadOptions {
  /** First LBA and number of blocks of the region the load owns. */
  base: number;
  blocks: number;
  writers: number;
  readers: number;
  /** Largest blocks per command. */
  maxBlocks: number;
  seed: number;
  /** Sequence numbers start above this (keep them unique across loads on one medium). */
  seqBase: number;
  /** A call that has not settled after this long is a hang. */
  hangMs: number;
  /** One flush in this many writes. */
  flushEvery?: number;
}

/** What the load saw. */
export interface LoadReport {
  ops: number;
  ok: number;
  /** Error tallies by errorName(). */
  errors: Map<string, number>;
  /** Errors that are not a PhyrError with a string code starting with PHYR_. */
  untyped: unknown[];
  /** Calls that threw synchronously instead of rejecting. */
  syncThrows: string[];
  /** Calls that did not settle within hangMs. */
  hangs: string[];
  /** Reads that succeeded with data other than what was acknowledged (LBA -> what). */
  badReads: string[];
  /** Slowest call, ms. */
  maxMs: number;
  /** How long each call that ended in NvmeTimeoutError took, ms. */
  timeoutLatencies: number[];
}

/** A running load (stop() ends it and waits for every call, each bounded by hangMs). */
export class IoLoad {
  /** Newest acknowledged sequence number per block of the region (0 = none). */
  readonly acked: Float64Array;
  /** Highest sequence number issued. */
  seq: number;
  readonly report: LoadReport = { ops: 0, ok: 0, errors: new Map(), untyped: [], syncThrows: [], hangs: [], badReads: [], maxMs: 0, timeoutLatencies: [] };
  private readonly busy: Uint8Array;
  private stopping = false;
  private readonly workers: Promise<void>[] = [];
  private readonly rng: Rng;
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly ns: Namespace,
    readonly o: LoadOptions,
    acked?: Float64Array,
  ) {
    this.acked = acked ?? new Float64Array(o.blocks);
    this.busy = new Uint8Array(o.blocks);
    this.seq = o.seqBase;
    this.rng = new Rng(o.seed);
  }

  /** Starts the workers. */
  start(): this {
    for (let i = 0; i < this.o.writers; i++) this.workers.push(this.worker(true));
    for (let i = 0; i < this.o.readers; i++) this.workers.push(this.worker(false));
    return this;
  }

  /** Resolves when an outcome matching `pred` is seen, or after `ms`. Returns whether it was seen. */
  until(pred: (r: LoadReport) => boolean, ms: number): Promise<boolean> {
    if (pred(this.report)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(check);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(pred(this.report));
      }, ms);
      const check = (): void => {
        if (!pred(this.report)) return;
        clearTimeout(timer);
        this.waiters.splice(this.waiters.indexOf(check), 1);
        resolve(true);
      };
      this.waiters.push(check);
    });
  }

  /** Stops issuing and waits for the workers (each of their calls is bounded). */
  async stop(): Promise<LoadReport> {
    this.stopping = true;
    await Promise.all(this.workers);
    return this.report;
  }

  /** One call of the load, timed and classified. Returns whether it succeeded. */
  async run(op: string, f: () => Promise<void>): Promise<boolean> {
    const r = this.report;
    r.ops++;
    const t0 = Date.now();
    const c = call(f);
    if (c.threw) r.syncThrows.push(op);
    const out = await within(c.p, this.o.hangMs);
    const ms = Date.now() - t0;
    r.maxMs = Math.max(r.maxMs, ms);
    let ok = false;
    if (!out.settled) r.hangs.push(`${op}: not settled after ${this.o.hangMs} ms`);
    else if (out.error === undefined) {
      r.ok++;
      ok = true;
    } else {
      const name = errorName(out.error);
      r.errors.set(name, (r.errors.get(name) ?? 0) + 1);
      if (name === 'NvmeTimeoutError') r.timeoutLatencies.push(ms);
      const e = out.error as { code?: unknown };
      if (!(out.error instanceof PhyrError) || typeof e.code !== 'string' || !e.code.startsWith('PHYR_')) r.untyped.push(out.error);
    }
    for (const w of [...this.waiters]) w();
    // A call refused at once settles in a microtask: yield to the event loop, or a worker
    // that keeps being refused would starve the timers and polls of the recovery it waits for.
    if (!ok) await new Promise((r) => setTimeout(r, 1));
    return ok;
  }

  private claim(blocks: number): number {
    for (let tries = 0; tries < 32; tries++) {
      const at = this.rng.below(this.o.blocks - blocks + 1);
      if (!this.busy.subarray(at, at + blocks).some((b) => b)) {
        this.busy.fill(1, at, at + blocks);
        return at;
      }
    }
    return -1;
  }

  private async worker(writer: boolean): Promise<void> {
    const lbaSize = this.ns.lbaSize;
    let n = 0;
    while (!this.stopping) {
      if (writer && this.o.flushEvery && ++n % this.o.flushEvery === 0) {
        await this.run('flush', () => this.ns.flush());
        continue;
      }
      const blocks = 1 + this.rng.below(this.o.maxBlocks);
      const at = this.claim(blocks);
      if (at < 0) {
        await new Promise((r) => setImmediate(r));
        continue;
      }
      const lba = this.o.base + at;
      const buf = Buffer.alloc(blocks * lbaSize);
      if (writer) {
        const s = ++this.seq;
        for (let i = 0; i < blocks; i++) fillBlock(buf.subarray(i * lbaSize, (i + 1) * lbaSize), lba + i, s);
        if (await this.run(`write ${lba}+${blocks}`, () => this.ns.write(lba, buf))) this.acked.fill(s, at, at + blocks);
      } else if (await this.run(`read ${lba}+${blocks}`, () => this.ns.read(lba, buf))) {
        for (let i = 0; i < blocks; i++) {
          const bad = checkBlock(buf.subarray(i * lbaSize, (i + 1) * lbaSize), lba + i, this.acked[at + i], this.seq);
          if (bad) this.report.badReads.push(bad);
        }
      }
      this.busy.fill(0, at, at + blocks);
    }
  }
}

/** Checks one block read back against the newest acknowledged seq; returns what is wrong, or undefined. */
export function checkBlock(block: Uint8Array, lba: number, acked: number, maxSeq: number): string | undefined {
  const b = parseBlock(block);
  if (b.state === 'torn') return `LBA ${lba}: torn or corrupt block (acknowledged seq ${acked})`;
  if (b.state === 'empty') return acked > 0 ? `LBA ${lba}: acknowledged seq ${acked} missing` : undefined;
  if (b.lba !== lba) return `LBA ${lba}: holds the block of LBA ${b.lba}`;
  if (b.seq < acked) return `LBA ${lba}: holds seq ${b.seq}, acknowledged seq ${acked}`;
  if (b.seq > maxSeq) return `LBA ${lba}: seq ${b.seq} was never written`;
  return undefined;
}

/** Reads the region back through `ns` and lists every acknowledged write that is not there. */
export async function verifyRegion(ns: Namespace, base: number, acked: Float64Array, maxSeq: number): Promise<{ checked: number; problems: string[] }> {
  const buf = Buffer.alloc(acked.length * ns.lbaSize);
  await ns.read(base, buf);
  const problems: string[] = [];
  let checked = 0;
  for (let i = 0; i < acked.length; i++) {
    if (acked[i] > 0) checked++;
    const bad = checkBlock(buf.subarray(i * ns.lbaSize, (i + 1) * ns.lbaSize), base + i, acked[i], maxSeq);
    if (bad) problems.push(bad);
  }
  return { checked, problems };
}
