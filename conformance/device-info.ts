// What the cases need to know about the device under test, read through raw commands
// (so nothing is assumed about emulator defaults).
import { NVME } from '../spec/nvme';
import { u16, u32, u64 } from './check';
import { RawQueueError, formatStatus, type RawController } from './raw-queue';

/** Facts read from CAP, Identify Controller and Identify Namespace 1. */
export interface DeviceInfo {
  /** CAP.MQES + 1: the largest queue. */
  maxQueueEntries: number;
  /** CAP.CQR: queues must be physically contiguous. */
  contiguousRequired: boolean;
  /** Bytes of the CC.MPS = 0 page (4096). */
  pageSize: number;
  /** Max transfer in bytes (0 = no limit). */
  maxTransfer: number;
  /** Identify Controller NN. */
  namespaces: number;
  /** Identify Controller SGLS. */
  sgls: number;
  /** Namespace 1: LBA size and block count. */
  lbaSize: number;
  blocks: number;
}

/** Enables the controller and reads the facts. */
export async function readDeviceInfo(raw: RawController): Promise<DeviceInfo> {
  if ((await raw.enable()) !== 'ready') throw new RawQueueError('the controller did not become ready');
  const cap = raw.reg64(NVME.REG_CAP);
  const mpsmin = Math.floor(cap / 2 ** NVME.CAP_MPSMIN_SHIFT) & 0xf;
  const ctrl = await raw.identify(NVME.CNS_CONTROLLER);
  if (ctrl.completion.status) throw new RawQueueError(`Identify Controller failed: ${formatStatus(ctrl.completion.status)}`);
  const ns = await raw.identify(NVME.CNS_NAMESPACE, 1);
  if (ns.completion.status) throw new RawQueueError(`Identify Namespace 1 failed: ${formatStatus(ns.completion.status)}`);
  const flbas = ns.data[26] & 0xf;
  const lbads = ns.data[128 + 4 * flbas + 2];
  const mdts = ctrl.data[77];
  return {
    maxQueueEntries: (cap % 2 ** 16) + 1,
    contiguousRequired: (Math.floor(cap / 2 ** NVME.CAP_CQR_SHIFT) & 1) === 1,
    pageSize: 4096,
    maxTransfer: mdts ? 2 ** mdts * 2 ** (12 + mpsmin) : 0,
    namespaces: u32(ctrl.data, 516),
    sgls: u32(ctrl.data, 536),
    lbaSize: 2 ** lbads,
    blocks: u64(ns.data, 0),
  };
}

export { u16 };
