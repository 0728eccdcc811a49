// Helpers shared by the raw conformance cases: a checker that collects expectations into
// one CaseOutcome (recording what was sent, received and expected), and small utilities.
import type { CaseContext, CaseOutcome, ConformanceCase } from './case';
import { NVME } from '../spec/nvme';
import { PCI } from '../spec/pci';
import type { PciFunction } from '../lib/pci/function';
import { formatStatus, statusField, type RawCompletion, type RawController, type SqeFields } from './raw-queue';

/** A raw conformance case: the context's `raw` is a RawController on the function. */
export type RawCase = ConformanceCase<RawController>;
/** The context a raw case receives. */
export type RawContext = CaseContext<RawController>;

/** How an expectation may be excused by a known device deviation. */
export interface QuirkExcuse {
  /** Quirk name (see docs/EMULATOR.md, QEMU differences). */
  quirk: string;
  /** The status the quirky device answers instead. */
  status: number;
}

function describeSqe(f: SqeFields): string {
  return Object.entries(f)
    .map(([k, v]) => `${k}=0x${(v as number).toString(16)}`)
    .join(' ');
}

/** Collects expectations; outcome() gives pass, the first failure, or a deviation. */
export class Checker {
  private failure: CaseOutcome | undefined;
  private deviation: CaseOutcome | undefined;
  private passed = 0;

  constructor(private readonly ctx: RawContext) {}

  /** Expects `c.status` to equal `want` exactly (SC, SCT and DNR). */
  status(c: { status: number; dw0?: number }, want: number, label: string, sent?: SqeFields, excuse?: QuirkExcuse): boolean {
    if (c.status === want) {
      this.passed++;
      return true;
    }
    if (excuse && this.ctx.quirks.has(excuse.quirk) && c.status === excuse.status) {
      this.deviation ??= { status: 'deviation', quirk: excuse.quirk, expected: `${label}: ${formatStatus(want)}`, received: formatStatus(c.status) };
      return false;
    }
    this.failure ??= {
      status: 'fail',
      expected: `${label}: status ${formatStatus(want)}`,
      received: `status ${formatStatus(c.status)} (dw0 0x${(c.dw0 ?? 0).toString(16)})`,
      sent: sent ? describeSqe(sent) : undefined,
    };
    return false;
  }

  /**
   * Expects SCT and SC of `want` exactly, with DNR either way: for statuses where the
   * specification leaves the Do Not Retry bit to the controller.
   */
  statusAnyDnr(c: { status: number; dw0?: number }, want: number, label: string, sent?: SqeFields): boolean {
    return this.status((c.status & ~NVME.STATUS_DNR) === (want & ~NVME.STATUS_DNR) ? { ...c, status: want } : c, want, `${label} (DNR either way)`, sent);
  }

  /** Expects a condition; `received` describes what was seen. */
  ok(cond: boolean, label: string, received: string): boolean {
    if (cond) {
      this.passed++;
      return true;
    }
    this.failure ??= { status: 'fail', expected: label, received };
    return false;
  }

  /** Number of expectations met so far. */
  get count(): number {
    return this.passed;
  }

  outcome(detail?: string): CaseOutcome {
    if (this.failure) return this.failure;
    if (this.deviation) return this.deviation;
    return { status: 'pass', detail: detail ?? `${this.passed} checks` };
  }
}

/**
 * What a case body returns: nothing (the checks decide), a detail line for a pass, or an
 * outcome of its own (not-applicable, with what the controller reported).
 */
export type CaseBodyResult = void | string | CaseOutcome;

/** The case's outcome: a failed check wins over whatever the body returned. */
export function finish(check: Checker, r: CaseBodyResult): CaseOutcome {
  const own = check.outcome();
  if (own.status !== 'pass' || typeof r !== 'object') return own.status === 'pass' && typeof r === 'string' ? check.outcome(r) : own;
  return r;
}

/** Runs `sqe` on the admin queue and checks its status. */
export async function adminExpect(ctx: RawContext, check: Checker, sqe: SqeFields, want: number, label: string): Promise<RawCompletion> {
  const c = await ctx.raw.adminCommand(sqe);
  check.status(c, want, label, sqe);
  return c;
}

/**
 * An IOVA inside the device's accepted ranges that nothing maps: the top 2 MiB-aligned
 * page of the last range (allocators hand out addresses from the bottom).
 */
export function unmappedIova(ctx: RawContext): number {
  const ranges = ctx.fn.iovaRanges();
  const last = ranges[ranges.length - 1];
  return Math.floor((last.end + 1 - 2 * 2 ** 20) / 2 ** 21) * 2 ** 21;
}

/**
 * The function's MSI-X table size, read from its own config space (the raw cases judge the
 * device, so they do not ask the driver), or 0 without an MSI-X capability. PCI 3.0 §6.7:
 * a chain of dword-aligned pointers, at most 48 after the 64-byte header.
 */
export function msixTableSize(fn: Pick<PciFunction, 'configRead'>): number {
  let ptr = fn.configRead(PCI.CFG_CAPABILITY_LIST, 1) & PCI.CAP_PTR_MASK;
  for (let hops = 0; ptr !== 0 && hops < 48; hops++) {
    if (fn.configRead(ptr + PCI.CAP_ID, 1) === PCI.CAP_ID_MSIX) return (fn.configRead(ptr + PCI.MSIX_CTRL, 2) & PCI.MSIX_CTRL_TABLE_SIZE_MASK) + 1;
    ptr = fn.configRead(ptr + PCI.CAP_NEXT, 1) & PCI.CAP_PTR_MASK;
  }
  return 0;
}

/** Little-endian field readers over identify data. */
export function u16(d: Uint8Array, off: number): number {
  return d[off] | (d[off + 1] << 8);
}
export function u32(d: Uint8Array, off: number): number {
  return (d[off] | (d[off + 1] << 8) | (d[off + 2] << 16) | (d[off + 3] << 24)) >>> 0;
}
export function u64(d: Uint8Array, off: number): number {
  return u32(d, off) + u32(d, off + 4) * 2 ** 32;
}

/** Expected statuses (with DNR, as this project's devices set it on these errors). */
export const generic = (sc: number): number => statusField(NVME.SCT_GENERIC, sc);
export const specific = (sc: number): number => statusField(NVME.SCT_COMMAND_SPECIFIC, sc);
