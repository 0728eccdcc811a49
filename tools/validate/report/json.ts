// The JSON report: the RunReport as is (schema 'phyr-validate/1'), for programs.
import type { RunReport } from '../types';

/** Serialises a report (two-space indented, trailing newline). */
export function jsonReport(report: RunReport): string {
  return `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`;
}
