// The suites of phyr validate, in the order they run, with what each covers and where its
// cases come from.
import type { SuiteName } from './types';

/** A suite's description. */
export interface SuiteInfo {
  name: SuiteName;
  /** One line: what the suite checks. */
  description: string;
  /** Where its cases are written. */
  source: string;
}

/** Every suite, in run order (registers first: later suites rely on a working controller). */
export const SUITES: readonly SuiteInfo[] = [
  { name: 'registers', description: 'CAP/VS/CC/CSTS sanity, enable/disable timing against CAP.TO, shutdown', source: 'conformance/cases' },
  { name: 'admin', description: 'identify, features, log pages, queue create/delete limits and statuses, abort, async events', source: 'conformance/cases' },
  { name: 'dptr', description: 'PRP and SGL edge cases, MDTS boundaries, malformed-pointer statuses', source: 'conformance/cases' },
  { name: 'errors', description: 'out-of-range LBAs, invalid namespace, invalid opcode, deallocated reads', source: 'conformance/cases + tools/validate/suites' },
  { name: 'p2p', description: "IO into the controller's own CMB or a peer's BAR, verified through BAR reads", source: 'tools/validate/suites' },
  { name: 'integrity', description: 'destructive: pattern writes with per-block headers and CRC, read back under stress, reset and re-open', source: 'tools/validate/suites' },
];

/** Names of every suite in run order. */
export const SUITE_NAMES: readonly SuiteName[] = SUITES.map((s) => s.name);

/** True when `name` is a suite name. */
export function isSuiteName(name: string): name is SuiteName {
  return (SUITE_NAMES as readonly string[]).includes(name);
}
