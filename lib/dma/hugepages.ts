// The kernel's 2 MiB hugepage reserve: how many exist and are free (/proc/meminfo), and
// how to change the reserve (/proc/sys/vm/nr_hugepages, root only). The pool itself never
// changes the reserve; `phyr setup --hugepages N` and tests do.
import * as fs from 'fs';
import { PhyrError } from '../errors';

/** Hugepage counters from /proc/meminfo. */
export interface HugepageStatus {
  /** Pages in the reserve (HugePages_Total). */
  total: number;
  /** Pages not yet handed out (HugePages_Free). */
  free: number;
  /** Pages promised to mappings but not yet faulted in (HugePages_Rsvd). */
  reserved: number;
  /** Default hugepage size in bytes (Hugepagesize). */
  pageSize: number;
}

const NR_HUGEPAGES = '/proc/sys/vm/nr_hugepages';

/** Parses /proc/meminfo text (or reads it) into hugepage counters. */
export function readHugepageStatus(meminfo: string = fs.readFileSync('/proc/meminfo', 'utf8')): HugepageStatus {
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(meminfo);
    return m ? Number(m[1]) : 0;
  };
  return {
    total: field('HugePages_Total'),
    free: field('HugePages_Free'),
    reserved: field('HugePages_Rsvd'),
    pageSize: field('Hugepagesize') * 1024,
  };
}

/** The current size of the reserve (/proc/sys/vm/nr_hugepages). */
export function reservedHugepages(): number {
  return Number(fs.readFileSync(NR_HUGEPAGES, 'utf8').trim());
}

/**
 * Asks the kernel to hold `count` default-size hugepages; returns how many it now holds
 * (it may hold fewer when memory is fragmented). Needs root.
 */
export function setReservedHugepages(count: number): number {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new PhyrError('PHYR_DMA_BAD_ARGUMENT', `hugepage count ${count} is not a non-negative integer`);
  }
  try {
    fs.writeFileSync(NR_HUGEPAGES, `${count}\n`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PhyrError(
      'PHYR_HUGEPAGE_SETUP_FAILED',
      `cannot write ${NR_HUGEPAGES} (${code ?? String(e)}): reserving hugepages needs root; run \`sudo phyr setup --hugepages ${count}\``,
    );
  }
  return reservedHugepages();
}
