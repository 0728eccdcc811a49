// open(target): a target string to a running controller — the three-line entry of the
// package. It lives above the driver and both PCI-function implementations because it is
// the one place that joins them.
import { Controller, checkOpenOptions, type OpenOptions } from '../drivers/nvme';
import { openPciFunction } from './index';

/**
 * Opens the controller at `target` ('emu', 'emu:key=value,...' or a PCI address) and
 * brings it up. The controller owns the PCI function: close() releases both. Bad
 * arguments reject with a PhyrError (PHYR_BAD_TARGET, PHYR_INVALID_ARGUMENT) before
 * anything is opened.
 */
export async function open(target?: string, options?: OpenOptions): Promise<Controller> {
  checkOpenOptions(options);
  const fn = openPciFunction(target);
  return Controller.open(fn, options, true);
}
