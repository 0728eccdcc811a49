// Assembles a finished run into the RunReport every report format is written from.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { PciFunction } from '../../../lib/pci/function';
import type { Quirk } from '../quirks';
import { emptyTotals, type CaseResult, type DeviceIdentity, type OutcomeTotals, type PlatformInfo, type RunOptions, type RunReport } from '../types';

/** Counts results per outcome status. */
export function totalsOf(results: readonly CaseResult[]): OutcomeTotals {
  const t = emptyTotals();
  for (const r of results) t[r.outcome.status]++;
  return t;
}

/** The package version (from package.json next to the sources or the compiled tree). */
export function toolVersion(): string {
  for (let dir = __dirname, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const p = path.join(dir, 'package.json');
    if (fs.existsSync(p)) {
      const pkg = JSON.parse(fs.readFileSync(p, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'phyr' && pkg.version) return pkg.version;
    }
  }
  return 'unknown';
}

/**
 * How the device's DMA is translated. The embedded controller has its own IOMMU table; a
 * VFIO function reports its backend when it knows it ('iommuBackend'), else the kernel's
 * IOMMU units are named from sysfs.
 */
export function iommuBackendOf(fn: Pick<PciFunction, 'kind'> & { iommuBackend?: unknown }): string {
  if (fn.kind === 'emu') return 'embedded controller IOMMU table';
  if (typeof fn.iommuBackend === 'string') return fn.iommuBackend;
  let units: string[] = [];
  try {
    units = fs.readdirSync('/sys/class/iommu');
  } catch {
    /* no IOMMU class in sysfs */
  }
  return `vfio (backend not reported${units.length ? `; IOMMU units: ${units.join(', ')}` : ''})`;
}

/** The machine's description. */
export function platformInfo(iommu: string): PlatformInfo {
  return {
    kernel: os.release(),
    os: `${os.type()} ${os.version()}`,
    arch: os.arch(),
    node: process.version,
    hostname: os.hostname(),
    cpus: os.cpus().length,
    iommu,
  };
}

/** Everything a report needs. */
export interface ReportInput {
  target: string;
  options: RunOptions;
  device: DeviceIdentity;
  platform: PlatformInfo;
  quirks: readonly Quirk[];
  results: CaseResult[];
  startedAt: Date;
  finishedAt: Date;
}

/** Builds the report. */
export function buildReport(input: ReportInput): RunReport {
  return {
    schema: 'phyr-validate/1',
    tool: { name: 'phyr validate', version: toolVersion() },
    target: input.target,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
    options: input.options,
    device: input.device,
    platform: input.platform,
    quirks: input.quirks.map((q) => ({ id: q.id, description: q.description })),
    totals: totalsOf(input.results),
    cases: input.results,
  };
}

/** One line per outcome explaining it (used by every format). */
export function outcomeSummary(o: CaseResult['outcome']): string {
  switch (o.status) {
    case 'pass':
      return o.detail ?? '';
    case 'fail':
      return `expected ${o.expected}; received ${o.received}`;
    case 'deviation':
      return `known deviation ${o.quirk}: expected ${o.expected}; received ${o.received}`;
    case 'skipped':
    case 'not-applicable':
      return o.reason;
  }
}
