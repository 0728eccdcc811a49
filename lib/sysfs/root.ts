// Where the kernel's sysfs, procfs and /dev live. Tests point these at a fake tree
// (PHYR_SYSFS_ROOT=/tmp/x makes /tmp/x/sys, /tmp/x/proc and /tmp/x/dev be read instead).
import * as path from 'path';

/** The prefix under which sys/, proc/ and dev/ are read ('' = the real ones). */
export function systemRoot(): string {
  return process.env.PHYR_SYSFS_ROOT ?? '';
}

/** A path under /sys. */
export const sysPath = (...parts: string[]): string => path.join(systemRoot() || '/', 'sys', ...parts);
/** A path under /proc. */
export const procPath = (...parts: string[]): string => path.join(systemRoot() || '/', 'proc', ...parts);
/** A path under /dev. */
export const devPath = (...parts: string[]): string => path.join(systemRoot() || '/', 'dev', ...parts);
