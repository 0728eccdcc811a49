// The default case catalogue: the raw conformance cases written over conformance/raw-queue.ts
// (suites registers, admin, dptr, errors) plus validate's own driver-level suites.
import * as path from 'path';
import { CaseRegistry } from './registry';
import type { ConformanceCase, ValidateCase } from './types';

/** validate's own cases (integrity, p2p, driver-level errors). */
export function ownCases(): ValidateCase[] {
  return [];
}

/** The raw conformance cases, or none when this tree has no conformance/index. */
export function conformanceCases(): ConformanceCase[] {
  const where = path.join(__dirname, '..', '..', 'conformance', 'index');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(where) as { allCases: ConformanceCase[] }).allCases;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(where)) return [];
    throw err;
  }
}

/** Every case phyr validate knows. */
export function defaultRegistry(): CaseRegistry {
  return new CaseRegistry().add(conformanceCases()).add(ownCases());
}
