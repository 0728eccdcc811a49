// The NVMe driver's public API: open a controller, then read and write its namespaces.
//
//   const ctrl = await phyr.open('emu');
//   const ns = ctrl.namespace(1);
//   await ns.write(0, Buffer.alloc(4096, 1)); await ns.read(0, buf);
import { openPciFunction } from '../../lib/pci/open';
import { Controller, checkOpenOptions, type OpenOptions } from './controller';

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

export { Controller, RECOVERY_DEFAULTS, SglUnavailableError, UnknownNamespaceError, checkOpenOptions } from './controller';
export type { CompletionMode, DataPointerMode, OpenOptions, QueuePairOptions, RecoveryOptions } from './controller';
export { Namespace } from './namespace';
export { CmbUnavailableError, type ControllerMemoryBuffer } from './cmb';
export type { IoBuffer, IoOptions } from './namespace';
export { QueuePair, QueuePairArgumentError, QueuePairClosedError } from './queue-pair';
export type { DmaRegion, QueueCaps, QueuePairInit } from './queue-pair';
export { CPL, CPL_FLAG_CANCELLED, CPL_WORDS, ENTRY_WORDS, REQ, REQ_FLAG_RAW_CDW, REQ_WORDS, SubmitResult } from './batch';
export {
  ControllerClosedError,
  ControllerDeadError,
  ControllerFatalError,
  ControllerResetError,
  ControllerResettingError,
  DataPointerError,
  DeviceGoneError,
  InvalidArgumentError,
  InvalidIoError,
  NvmeStatusError,
  NvmeTimeoutError,
  decodeStatus,
  opcodeName,
  statusName,
} from './errors';
export type { CommandInfo, NvmeStatus } from './errors';
export { formatIdentifyController, formatIdentifyNamespace, parseIdentifyController, parseIdentifyNamespace } from './identify';
export type { IdentifyController, IdentifyNamespace, LbaFormat, PowerState } from './identify';
export type { DataPointerCaps, DataPointerDecision, QueuePairStats } from './native';
export { NVME } from './spec';
export { nvmeNative } from './native';
