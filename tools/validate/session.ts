// Opening a device for a validate run. A session owns the PCI function (and the optional
// peer) for the whole run and hands each case what it needs: a fresh raw controller for
// raw cases (conformance/raw-queue.ts; the controller is disabled again afterwards), or
// the driver's Controller for validate's driver-level cases. It also reads the device's
// identity (config space ids, Identify Controller and Namespace) through raw commands, so
// the report names the device even when the driver cannot bring it up.
import { Controller } from '../../drivers/nvme';
import { formatInUse, parseIdentifyController, parseIdentifyNamespace } from '../../drivers/nvme';
import { NVME } from '../../spec/nvme';
import { PCI } from '../../spec/pci';
import { DmaPool } from '../../lib/dma/pool';
import { PhyrError } from '../../lib/errors';
import type { PciFunction } from '../../lib/pci/function';
import { openPciFunction, targetKind } from '../../targets';
import { detectBackend } from '../../lib/vfio/backend';
import { VfioFunction } from '../../lib/vfio/device';
import { openVfio } from '../../lib/vfio/index';
import { RawController, formatStatus } from '../../conformance/raw-queue';
import { iommuBackendOf, platformInfo } from './report/build';
import { describeError, type CaseEnvironment, type PreparedCase } from './runner';
import type { DriverAccess } from './suites/driver-access';
import type { DeviceIdentity, PlatformInfo, ValidateCase } from './types';

/** A device opened for a run. */
export interface ValidateSession extends CaseEnvironment {
  readonly platform: PlatformInfo;
  /** Releases the device (idempotent). */
  close(): Promise<void>;
}

/** How a session is opened. */
export interface SessionOptions {
  nsid: number;
  /** Completion timeout for raw commands, in milliseconds. */
  commandTimeoutMs?: number;
  /** A peer function for the p2p suite ('emu:...' attaches to the same emulated IOMMU). */
  peer?: string;
}

/** The device could not be opened or identified. */
export class ValidateOpenError extends PhyrError {
  constructor(message: string) {
    super('PHYR_VALIDATE_OPEN', message);
  }
}

function versionString(vs: number): string {
  return `${vs >>> 16}.${(vs >>> 8) & 0xff}.${vs & 0xff}`;
}

/** Reads who the device is, with raw Identify commands; leaves the controller disabled. */
export async function readIdentity(fn: PciFunction, pool: DmaPool, target: string, nsid: number, timeoutMs?: number): Promise<DeviceIdentity> {
  const raw = new RawController(fn, pool, { timeoutMs });
  try {
    const state = await raw.enable();
    if (state !== 'ready') throw new ValidateOpenError(`${target}: the controller reported a fatal status (CSTS.CFS) when enabled; it cannot be validated until it is reset`);
    const ctrl = await raw.identify(NVME.CNS_CONTROLLER);
    if (ctrl.completion.status) throw new ValidateOpenError(`${target}: Identify Controller failed with ${formatStatus(ctrl.completion.status)}`);
    const id = parseIdentifyController(ctrl.data);
    const identity: DeviceIdentity = {
      target,
      kind: fn.kind,
      vendorId: fn.configRead(PCI.CFG_VENDOR_ID, 2),
      deviceId: fn.configRead(PCI.CFG_DEVICE_ID, 2),
      model: id.mn,
      serial: id.sn,
      firmware: id.fr,
      version: versionString(raw.reg32(NVME.REG_VS)),
      identify: { ...id },
    };
    // The active namespace list (CNS 02h, NVMe 1.4 §5.15.2.3): up to 1024 ids from NSID 1,
    // zero-terminated; a usage error names them.
    const list = await raw.identify(NVME.CNS_ACTIVE_NS_LIST, 0);
    if (!list.completion.status) {
      const view = new DataView(list.data.buffer, list.data.byteOffset, list.data.byteLength);
      const active: number[] = [];
      for (let off = 0; off + 4 <= list.data.byteLength; off += 4) {
        const id = view.getUint32(off, true);
        if (!id) break;
        active.push(id);
      }
      identity.activeNamespaces = active;
    }
    const ns = await raw.identify(NVME.CNS_NAMESPACE, nsid);
    if (!ns.completion.status) {
      const parsed = parseIdentifyNamespace(ns.data);
      identity.namespace = { ...parsed, lbaSize: parsed.nsze ? 2 ** parsed.lbafs[formatInUse(parsed)].ds : 0 };
    }
    return identity;
  } finally {
    await raw.close();
  }
}

class Session implements ValidateSession {
  private closed = false;
  /** Memory for raw cases; closed while the driver owns the controller (one IOVA space). */
  private pool: DmaPool | undefined;
  private ctrl: Controller | undefined;

  constructor(
    readonly fn: PciFunction,
    pool: DmaPool,
    readonly device: DeviceIdentity,
    readonly platform: PlatformInfo,
    readonly peer: PciFunction | undefined,
    private readonly options: SessionOptions,
  ) {
    this.pool = pool;
  }

  private async openDriver(): Promise<Controller> {
    this.pool?.close();
    this.pool = undefined;
    // The driver brings the controller up on the session's function and does not own it:
    // closing the controller (shutdown) leaves the function open for the next case.
    this.ctrl = await Controller.open(this.fn, { timeoutMs: this.options.commandTimeoutMs }, false);
    return this.ctrl;
  }

  private async closeDriver(): Promise<void> {
    const c = this.ctrl;
    this.ctrl = undefined;
    await c?.close();
  }

  private rawPool(): DmaPool {
    this.pool ??= new DmaPool(this.fn);
    return this.pool;
  }

  async prepare(c: ValidateCase): Promise<PreparedCase> {
    if (c.needs === 'none') return { release: async () => undefined };
    if (c.needs === 'driver') {
      if (!this.ctrl || this.ctrl.closed) await this.openDriver();
      const session = this;
      const access: DriverAccess = {
        get controller(): Controller {
          if (!session.ctrl) throw new Error('the controller is closed');
          return session.ctrl;
        },
        async reopen(): Promise<Controller> {
          await session.closeDriver();
          return session.openDriver();
        },
        async withoutDriver<T>(body: (raw: RawController) => Promise<T>): Promise<T> {
          await session.closeDriver();
          const raw = new RawController(session.fn, session.rawPool(), { timeoutMs: session.options.commandTimeoutMs });
          try {
            return await body(raw);
          } finally {
            await raw.close();
          }
        },
      };
      return { controller: access, release: async () => undefined };
    }
    await this.closeDriver();
    const raw = new RawController(this.fn, this.rawPool(), { timeoutMs: this.options.commandTimeoutMs });
    return { raw, release: () => raw.close() };
  }

  async recover(reason: string): Promise<void> {
    // A case that hung or threw left the controller in an unknown state. The driver shuts
    // down what it opened; otherwise a controller reset (CC.EN 1 -> 0) drops every queue and
    // pending command (NVMe 1.4 §7.3.2).
    if (this.ctrl) {
      await this.closeDriver();
      return;
    }
    const raw = new RawController(this.fn, this.rawPool(), { timeoutMs: this.options.commandTimeoutMs });
    try {
      await raw.disable();
    } catch (err) {
      throw new Error(`after ${reason}: resetting the controller failed: ${describeError(err)}`);
    } finally {
      await raw.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.closeDriver();
    } finally {
      this.pool?.close();
      this.peer?.close();
      this.fn.close();
    }
  }
}

/** Opens the peer function in the same IOMMU domain as `fn`. */
function openPeer(fn: PciFunction, peer: string): PciFunction {
  if (targetKind(peer) === 'emu') {
    // A second emulated function on the same emulated IOMMU table.
    const attach = (fn as PciFunction & { attachPeer?(t: string): PciFunction }).attachPeer;
    if (fn.kind !== 'emu' || !attach) throw new ValidateOpenError(`--peer ${peer}: an emulated peer attaches only to an emulated target`);
    return attach.call(fn, peer);
  }
  if (!(fn instanceof VfioFunction)) throw new ValidateOpenError(`--peer ${peer}: a VFIO peer needs a VFIO target (the target is ${fn.name})`);
  // The peer joins the target's VFIO container, so both share one IOMMU domain.
  return openVfio(peer, { peerOf: fn });
}

/** How the device's DMA is translated, for the report. */
function iommuOf(fn: PciFunction): string {
  if (fn instanceof VfioFunction) return `VFIO ${fn.report.backend} container, IOMMU group ${fn.iommuGroup} (${detectBackend().summary})`;
  return iommuBackendOf(fn);
}

/** Opens `target` (and the peer) for validation and reads the device's identity. */
export async function openSession(target: string, options: SessionOptions): Promise<ValidateSession> {
  const fn = openPciFunction(target);
  let pool: DmaPool | undefined;
  let peer: PciFunction | undefined;
  try {
    pool = new DmaPool(fn);
    peer = options.peer ? openPeer(fn, options.peer) : undefined;
    const device = await readIdentity(fn, pool, target, options.nsid, options.commandTimeoutMs);
    return new Session(fn, pool, device, platformInfo(iommuOf(fn)), peer, options);
  } catch (err) {
    pool?.close();
    peer?.close();
    fn.close();
    throw err;
  }
}
