// Runs every raw case on a fresh embedded controller per case (used by the emulator's
// tests; each configuration runs in its own test file to keep files short).
import type { CaseOutcome } from './case';
import { allCases } from './index';
import { runRawCase } from './runner';
import { EmuArena, openEmu } from '../emu';
import { DmaPool } from '../lib/dma/pool';

/** One case's outcome and whether the configuration lacks the feature it checks. */
export interface EmuCaseResult {
  id: string;
  outcome: CaseOutcome;
  /** True when the configuration lacks the case's feature (it must be not-applicable). */
  lacksFeature: boolean;
}

/**
 * True when the embedded controller configured by `target` lacks what case `id` checks,
 * judged from the target's keys (docs/EMULATOR.md): no CMB; SGLS = 0 (the SGL cases) or
 * non-zero (the PSDT-refused case); byte- or dword-aligned SGLs (the cases for the other
 * kind); MDTS = 0 (no limit to exceed).
 */
export function lacksFeature(id: string, target: string): boolean {
  const key = (k: string): string | undefined => new RegExp(`[:,]${k}=([^,]*)`).exec(target)?.[1];
  const cmb = key('cmb');
  const sgl = key('sgl') ?? 'off';
  if (id.includes('.cmb.')) return cmb === undefined || cmb === 'off' || cmb === '0';
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
