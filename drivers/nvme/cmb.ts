// The controller memory buffer (NVMe 1.4 §3.1.12 CMBLOC, §3.1.13 CMBSZ, §3.1.16 CMBMSC,
// §3.1.17 CMBSTS) as IO data memory. The controller decodes [CBA, CBA + size) itself; the
// same IOVAs are also mapped in the IOMMU to the BAR, so no other memory of the domain can
// sit there and a peer device reaches the CMB at the same address.
import type { DeviceMemoryMapping, DmaPool } from '../../lib/dma';
import { PhyrError } from '../../lib/errors';
import { read32, read64, write64 } from '../../lib/mmio';
import type { PciFunction } from '../../lib/pci/function';
import { PhyrArray, PhyrFlags } from '../../lib/phyr';
import { NVME } from '../../spec/nvme';

/** The controller has no usable controller memory buffer for IO data. */
export class CmbUnavailableError extends PhyrError {
  constructor(why: string) {
    super('PHYR_CMB_UNAVAILABLE', `the controller memory buffer cannot hold IO data: ${why}`);
  }
}

/** An enabled controller memory buffer, mapped at `iova`. */
export interface ControllerMemoryBuffer {
  /** Device address of the CMB's first byte (CMBMSC.CBA). */
  readonly iova: number;
  /** Bytes of the CMB (CMBSZ). */
  readonly size: number;
  /** BAR index (CMBLOC.BIR) and offset of the CMB within that BAR. */
  readonly bar: number;
  readonly barOffset: number;
  /** CMBSZ: Read Data Support / Write Data Support (data of Read / Write commands may be here). */
  readonly readData: boolean;
  readonly writeData: boolean;
  /** The CMB's CPU view (uncached MMIO on hardware: for checks, never a staging buffer). */
  readonly view: ArrayBuffer;
  /** Phyr entries (flagged CMB) for bytes [offset, offset + length) of the CMB. */
  slice(offset: number, length: number, out?: PhyrArray): PhyrArray;
}

const CRE_WAIT_MS = 1000;

/** Decoded CMBSZ size: SZ units of 4 KiB × 16^SZU (§3.1.13). */
export function cmbSizeBytes(cmbsz: number): number {
  const szu = (cmbsz >>> NVME.CMBSZ_SZU_SHIFT) & 0xf;
  return (cmbsz >>> NVME.CMBSZ_SZ_SHIFT) * 4096 * 16 ** szu;
}

/** Turns the CMB on and maps it; undo with `disableCmb`. */
export async function enableCmb(fn: PciFunction, pool: DmaPool, cmbs: boolean): Promise<{ cmb: ControllerMemoryBuffer; mapping: DeviceMemoryMapping }> {
  if (!cmbs) throw new CmbUnavailableError('the controller reports none (CAP.CMBS = 0)');
  const bar0 = fn.bar(0);
  // CRE first: CMBLOC and CMBSZ read 0 until it is set (§3.1.16). A device that samples
  // its registers (the embedded one) publishes them a moment later.
  write64(bar0, NVME.REG_CMBMSC, NVME.CMBMSC_CRE);
  const deadline = Date.now() + CRE_WAIT_MS;
  while (read32(bar0, NVME.REG_CMBSZ) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  const loc = read32(bar0, NVME.REG_CMBLOC);
  const sz = read32(bar0, NVME.REG_CMBSZ);
  const size = cmbSizeBytes(sz);
  const bir = loc & NVME.CMBLOC_BIR_MASK;
  const szu = (sz >>> NVME.CMBSZ_SZU_SHIFT) & 0xf;
  const barOffset = (loc >>> NVME.CMBLOC_OFST_SHIFT) * 4096 * 16 ** szu;
  const refuse = (why: string): never => {
    write64(bar0, NVME.REG_CMBMSC, 0);
    throw new CmbUnavailableError(why);
  };
  if (size === 0) refuse('CMBSZ reads 0 after CMBMSC.CRE was set');
  if ((sz & (NVME.CMBSZ_RDS | NVME.CMBSZ_WDS)) === 0) refuse(`CMBSZ 0x${sz.toString(16)} allows neither read nor write data in it`);
  if (fn.barSize(bir) < barOffset + size) refuse(`CMBLOC puts it at BAR ${bir} + 0x${barOffset.toString(16)}, beyond that BAR (${fn.barSize(bir)} bytes)`);
  const view = fn.bar(bir);
  let mapping: DeviceMemoryMapping;
  try {
    mapping = pool.mapDeviceMemory(view, barOffset, size, PhyrFlags.CMB);
  } catch (e) {
    write64(bar0, NVME.REG_CMBMSC, 0);
    throw e;
  }
  const iova = mapping.iova;
  programCba(bar0, iova);
  if ((read32(bar0, NVME.REG_CMBSTS) & NVME.CMBSTS_CBAI) !== 0 || Number(read64(bar0, NVME.REG_CMBMSC) & ~0xfffn) !== iova) {
    write64(bar0, NVME.REG_CMBMSC, 0);
    mapping.release();
    throw new CmbUnavailableError(`the controller did not accept CBA 0x${iova.toString(16)} (CMBSTS.CBAI set or CBA not latched)`);
  }
  const cmb: ControllerMemoryBuffer = {
    iova,
    size,
    bar: bir,
    barOffset,
    readData: (sz & NVME.CMBSZ_RDS) !== 0,
    writeData: (sz & NVME.CMBSZ_WDS) !== 0,
    view,
    slice(offset: number, length: number, out?: PhyrArray): PhyrArray {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length <= 0 || offset + length > size) {
        throw new CmbUnavailableError(`slice ${offset}+${length} is outside the ${size}-byte CMB`);
      }
      const target = out ?? new PhyrArray();
      target.push(iova + offset, length, PhyrFlags.CMB);
      return target;
    },
  };
  return { cmb, mapping };
}

/** Writes CMBMSC with CRE, CMSE and CBA = `iova` (again after a controller reset). */
export function programCba(bar0: ArrayBuffer, iova: number): void {
  write64(bar0, NVME.REG_CMBMSC, iova + NVME.CMBMSC_CRE + NVME.CMBMSC_CMSE);
}

/** Turns the CMB's address decoding off (CMBMSC = 0) and unmaps it. */
export function disableCmb(bar0: ArrayBuffer, mapping: DeviceMemoryMapping): void {
  try {
    write64(bar0, NVME.REG_CMBMSC, 0);
  } finally {
    mapping.release();
  }
}

/** What a controller's CMB slot needs from it. */
export interface CmbHost {
  readonly fn: PciFunction;
  /** BAR0: the controller's registers. */
  readonly bar: ArrayBuffer;
  readonly pool: DmaPool;
  /** CAP.CMBS. */
  readonly cmbs: boolean;
  /** The error to throw when the controller was closed while the CMB was being enabled, else undefined. */
  closedError(): Error | undefined;
}

/** A controller's CMB: enabled once on demand, its CBA written again after a reset, disabled at close. */
export class CmbSlot {
  private window: { cmb: ControllerMemoryBuffer; mapping: DeviceMemoryMapping } | undefined;
  private enabling: Promise<ControllerMemoryBuffer> | undefined;

  constructor(private readonly host: CmbHost) {}

  /** Enables the CMB once; a failed attempt may be retried. */
  enable(): Promise<ControllerMemoryBuffer> {
    const { fn, bar, pool, cmbs } = this.host;
    this.enabling ??= enableCmb(fn, pool, cmbs).then(
      (w) => {
        const closed = this.host.closedError();
        if (closed) {
          // closed while the CMB was being enabled: leave the device as close() did
          try {
            disableCmb(bar, w.mapping);
          } catch {
            // the closed pool already unmapped the window
          }
          throw closed;
        }
        this.window = w;
        return w.cmb;
      },
      (e: unknown) => {
        this.enabling = undefined;
        throw e;
      },
    );
    return this.enabling;
  }

  /** The enabled CMB, if any. */
  get cmb(): ControllerMemoryBuffer | undefined {
    return this.window?.cmb;
  }

  /** Close: forgets the CMB and disables its decoding (the pool unmaps it anyway). */
  disable(): void {
    const w = this.window;
    this.window = undefined;
    if (!w) return;
    try {
      disableCmb(this.host.bar, w.mapping);
    } catch {
      // pool.close() unmaps it anyway
    }
  }
}
