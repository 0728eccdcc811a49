// The NVMe driver's public API: a Controller over a PCI function, its namespaces and queue
// pairs. Opening one from a target string is targets/open.ts (the package entry's open()).
export { Controller, RECOVERY_DEFAULTS, SglUnavailableError, UnknownNamespaceError, checkOpenOptions } from './controller';
export type { CompletionMode, DataPointerMode, OpenOptions, QueuePairOptions, RecoveryOptions } from './controller';
export { Namespace } from './namespace';
export { CmbUnavailableError, type ControllerMemoryBuffer } from './cmb';
export type { IoBuffer, IoOptions } from './namespace';
export { QueuePair, QueuePairArgumentError, QueuePairClosedError } from './queue-pair';
export type { DmaRegion, QueueCaps, QueuePairInit } from './queue-pair';
export { CPL, CPL_FLAG_CANCELLED, CPL_STATUS_MASK, CPL_WORDS, ENTRY_WORDS, REQ, REQ_FLAG_RAW_CDW, REQ_WORDS, RESULT_CODE_MASK, SubmitResult } from './batch';
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
export { formatInUse, formatIdentifyController, formatIdentifyNamespace, parseIdentifyController, parseIdentifyNamespace } from './identify';
export type { IdentifyController, IdentifyNamespace, LbaFormat, PowerState } from './identify';
export type { DataPointerCaps, DataPointerDecision, QueuePairStats } from './native';
export { NVME } from '../../spec/nvme';
export { nvmeNative } from './native';
export { adminWithData, formatNvmSqe, getFeaturesSqe, getLogPageSqe, setFeaturesSqe } from './admin-data';
export type { AdminDataResult, AdminRunner } from './admin-data';
export { adminSqe, identifySqe } from './admin';
export type { AdminFields } from './admin';
