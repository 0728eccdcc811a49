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

/** Runs all cases on `target`, with the emulator's arena or the project's DMA pool. */
export async function runAllCasesOnEmu(target: string, memory: 'arena' | 'pool'): Promise<EmuCaseResult[]> {
  const results: EmuCaseResult[] = [];
  for (const c of allCases) {
    const fn = openEmu(target);
    const mem = memory === 'arena' ? new EmuArena(fn) : new DmaPool(fn, { hugepages: 'off' });
    try {
      const outcome = await runRawCase(c, fn, mem, { destructive: true, timeoutMs: 3000 });
      const lacksFeature = (c.id.includes('.cmb.') && !target.includes('cmb=')) || (c.id.startsWith('dptr.sgl.') && !/sgl=(on|dword)/.test(target));
      results.push({ id: c.id, outcome, lacksFeature });
    } finally {
      mem.close();
      fn.close();
    }
  }
  return results;
}
