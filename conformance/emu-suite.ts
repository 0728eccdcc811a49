// Runs every raw case on a fresh embedded controller per case (used by the emulator's
// tests; each configuration runs in its own test file to keep files short).
import type { CaseOutcome } from './case';
import { allCases } from './index';
import { runRawCase } from './runner';
import { EmuArena, openEmu } from '../emu';
import { parseEmuTarget } from '../emu/target';
import { NVME } from '../spec/nvme';
import { DmaPool } from '../lib/dma/pool';

/** One case's outcome and whether the configuration lacks the feature it checks. */
export interface EmuCaseResult {
  id: string;
  outcome: CaseOutcome;
  /** True when the configuration lacks the case's feature (it must be not-applicable). */
  lacksFeature: boolean;
}

/**
 * Whether the CMBSZ support bits (§3.1.13) let CMB case `id` apply: a use's case needs its
 * bit set, the matching refusal case needs it clear; the PRP-list and mixing cases probe
 * with Reads (RDS).
 */
function cmbBitsAllow(id: string, bits: number): boolean {
  const has = (bit: number): boolean => (bits & bit) !== 0;
  switch (id) {
    case 'dptr.cmb.data-roundtrip': return has(NVME.CMBSZ_RDS) && has(NVME.CMBSZ_WDS);
    case 'dptr.cmb.mixing':
    case 'dptr.cmb.prp-list': return has(NVME.CMBSZ_RDS);
    case 'dptr.cmb.read-data-refused': return !has(NVME.CMBSZ_RDS);
    case 'dptr.cmb.write-data-refused': return !has(NVME.CMBSZ_WDS);
    case 'admin.cmb.sq-in-cmb': return has(NVME.CMBSZ_SQS);
    case 'admin.cmb.sq-in-cmb-refused': return !has(NVME.CMBSZ_SQS);
    case 'admin.cmb.cq-in-cmb': return has(NVME.CMBSZ_CQS);
    case 'admin.cmb.cq-in-cmb-refused': return !has(NVME.CMBSZ_CQS);
    default: return true;
  }
}

/**
 * True when the embedded controller configured by `target` lacks what case `id` checks,
 * judged from the target's keys (docs/EMULATOR.md): no CMB; SGLS = 0 (the SGL cases) or
 * non-zero (the PSDT-refused case); CMBSZ bits of cmbsz= (the CMB cases: cmbBitsAllow);
 * byte- or dword-aligned SGLs (the cases for the other
 * kind); MDTS = 0 (no limit to exceed).
 */
export function lacksFeature(id: string, target: string): boolean {
  const key = (k: string): string | undefined => new RegExp(`[:,]${k}=([^,]*)`).exec(target)?.[1];
  const cmb = key('cmb');
  const sgl = key('sgl') ?? 'off';
  if (id.includes('.cmb.')) return cmb === undefined || cmb === 'off' || cmb === '0' || !cmbBitsAllow(id, parseEmuTarget(target).cmbSupport);
  if (id === 'dptr.psdt.sgl-unsupported') return sgl !== 'off';
  if (id === 'dptr.sgl.segment-chaining') return sgl !== 'on';
  if (id === 'dptr.sgl.dword-granularity') return sgl !== 'dword';
  if (id.startsWith('dptr.sgl.')) return sgl === 'off';
  if (id === 'dptr.mdts.exceeded') return key('mdts') === '0';
  return false;
}

/** Runs all cases on `target`, with the emulator's arena or the project's DMA pool. */
export async function runAllCasesOnEmu(target: string, memory: 'arena' | 'pool'): Promise<EmuCaseResult[]> {
  const results: EmuCaseResult[] = [];
  for (const c of allCases) {
    const fn = openEmu(target);
    const mem = memory === 'arena' ? new EmuArena(fn) : new DmaPool(fn, { hugepages: 'off' });
    try {
      const outcome = await runRawCase(c, fn, mem, { destructive: true, timeoutMs: 3000 });
      results.push({ id: c.id, outcome, lacksFeature: lacksFeature(c.id, target) });
    } finally {
      mem.close();
      fn.close();
    }
  }
  return results;
}
