// Parses `--nvme` controller descriptions for the testbed and turns them into QEMU
// arguments. One option describes one controller:
//   size=64M,ns=2,lbads=9:12,mdts=3,qpairs=8,cmb=16M,backing=file|null,file=PATH,driver=vfio-pci|nvme|none,hotplug
// and any further QEMU nvme device property as name=value (e.g. msix_qsize=1), passed
// through once QEMU's own list (qemu-properties.ts) has it.
// Controllers sit on the root bus at fixed slots (0x10 + index), so their PCI addresses
// are known before boot: the first is 0000:00:10.0. A `hotplug` controller sits behind its
// own PCIe root port in that slot instead (devices on the root bus cannot be unplugged); the
// firmware numbers root port buses in slot order, so the n-th hotplug controller is
// 0000:0n:00.0 and its QEMU id is nvme<index> (for device_del).
import * as path from 'path';
import { PhyrError } from '../../lib/errors';

/** One emulated controller. */
export interface NvmeControllerSpec {
  /** Bytes per namespace. */
  size: number;
  /** Number of namespaces. */
  namespaces: number;
  /** LBA data size exponent per namespace (cycled when shorter than `namespaces`). */
  lbads: number[];
  /** Identify Controller MDTS (0 = no limit), QEMU's `mdts`. */
  mdts?: number;
  /** QEMU's `max_ioqpairs`. */
  maxQueuePairs?: number;
  /** Controller memory buffer size in MiB (a power of two), 0 = none. */
  cmbMiB: number;
  /** 'file' stores data (a sparse file per namespace); 'null' discards writes and reads zeroes. */
  backing: 'file' | 'null';
  /** An existing image to use for namespace 1 (file backing). */
  file?: string;
  /** Which driver the guest binds the controller to before running the command. */
  driver: 'vfio-pci' | 'nvme' | 'none';
  /** Behind its own hotplug-capable PCIe root port (so device_del can remove it). */
  hotplug?: boolean;
  /**
   * Further QEMU `nvme` device properties, passed through as written (e.g. msix_qsize=1).
   * Names are checked against QEMU's own list before boot (checkQemuProperties).
   */
  qemu?: Record<string, string>;
}

/** A controller placed on the guest's PCI bus. */
export interface PlacedController extends NvmeControllerSpec {
  bdf: string;
  serial: string;
}

const KEYS = ['size', 'ns', 'lbads', 'mdts', 'qpairs', 'cmb', 'backing', 'file', 'driver', 'hotplug'];
/** QEMU's names for properties the testbed's own keys set: accepted as those keys. */
const QEMU_ALIASES: Record<string, string> = { max_ioqpairs: 'qpairs', cmb_size_mb: 'cmb' };
/** QEMU properties the testbed sets itself and a spec may not: why not. */
const QEMU_RESERVED: Record<string, string> = {
  id: 'the controller is nvme<index> (device_del uses it)',
  serial: 'the controller is phyr-vm-<index> (the tests find it by that)',
  addr: 'controllers take slots 0x10, 0x11, ... in order',
  bus: 'the root bus, or its own root port with hotplug',
  drive: 'namespaces are nvme-ns devices (ns=, size=, backing=)',
};
const QEMU_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const FIRST_SLOT = 0x10;
const MAX_CONTROLLERS = 12;

/** Parses a size like 4096, 64K, 64M, 2G. */
export function parseSize(text: string, what: string): number {
  const m = /^(\d+)([KMGT]?)$/i.exec(text);
  if (!m) throw new PhyrError('PHYR_VM_SPEC', `${what} '${text}' is not a size: use bytes or a K/M/G/T suffix, e.g. 64M`);
  const unit = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[m[2].toUpperCase() as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * unit;
}

function intIn(text: string, what: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new PhyrError('PHYR_VM_SPEC', `${what} '${text}' must be an integer from ${min} to ${max}`);
  return n;
}

/** Parses one `--nvme` value (an empty string gives the defaults). */
export function parseNvmeSpec(text: string): NvmeControllerSpec {
  const spec: NvmeControllerSpec = { size: 64 * 2 ** 20, namespaces: 1, lbads: [9], cmbMiB: 0, backing: 'file', driver: 'vfio-pci' };
  for (const part of text.split(',').filter(Boolean)) {
    const eq = part.indexOf('=');
    const given = eq < 0 ? part : part.slice(0, eq);
    let value = eq < 0 ? '' : part.slice(eq + 1);
    const key = Object.hasOwn(QEMU_ALIASES, given) ? QEMU_ALIASES[given] : given;
    if (given === 'cmb_size_mb') value = `${value}M`;
    if (Object.hasOwn(QEMU_RESERVED, key)) throw new PhyrError('PHYR_VM_SPEC', `--nvme cannot set QEMU's '${key}': ${QEMU_RESERVED[key]}`);
    if (!KEYS.includes(key)) {
      // Not one of the testbed's keys: a QEMU nvme property, checked against QEMU's list
      // before boot (a property always has a value).
      if (!QEMU_NAME.test(key) || eq < 0 || value === '') throw new PhyrError('PHYR_VM_SPEC', `unknown --nvme key '${part}': keys are ${KEYS.join(', ')}, or a QEMU nvme property as name=value`);
      spec.qemu = { ...spec.qemu, [key]: value };
      continue;
    }
    if (key === 'size') spec.size = parseSize(value, 'size');
    else if (key === 'ns') spec.namespaces = intIn(value, 'ns', 1, 32);
    else if (key === 'lbads') spec.lbads = value.split(':').map((v) => intIn(v, 'lbads', 9, 12));
    else if (key === 'mdts') spec.mdts = intIn(value, 'mdts', 0, 15);
    else if (key === 'qpairs') spec.maxQueuePairs = intIn(value, 'qpairs', 1, 256);
    else if (key === 'cmb') {
      const mib = parseSize(value, 'cmb') / 2 ** 20;
      if (mib !== 0 && (!Number.isInteger(mib) || (mib & (mib - 1)) !== 0)) throw new PhyrError('PHYR_VM_SPEC', `cmb '${value}' must be a power-of-two number of MiB (QEMU's cmb_size_mb)`);
      spec.cmbMiB = mib;
    } else if (key === 'backing') {
      if (value !== 'file' && value !== 'null') throw new PhyrError('PHYR_VM_SPEC', `backing '${value}' must be 'file' or 'null'`);
      spec.backing = value;
    } else if (key === 'file') spec.file = path.resolve(value);
    else if (key === 'hotplug') {
      if (value !== '' && value !== 'on') throw new PhyrError('PHYR_VM_SPEC', `hotplug takes no value (or 'on'), got '${value}'`);
      spec.hotplug = true;
    } else if (key === 'driver') {
      if (value !== 'vfio-pci' && value !== 'nvme' && value !== 'none') throw new PhyrError('PHYR_VM_SPEC', `driver '${value}' must be vfio-pci, nvme or none`);
      spec.driver = value;
    }
  }
  if (spec.size % 2 ** 12 !== 0 || spec.size === 0) throw new PhyrError('PHYR_VM_SPEC', `size ${spec.size} must be a non-zero multiple of 4 KiB`);
  if (spec.file && spec.backing !== 'file') throw new PhyrError('PHYR_VM_SPEC', 'file= needs backing=file');
  return spec;
}

/**
 * Refuses a passed-through property QEMU's nvme device does not have, listing the
 * testbed's keys and QEMU's properties (`known`, from qemuNvmeProperties).
 */
export function checkQemuProperties(specs: NvmeControllerSpec[], known: readonly string[]): void {
  const names = new Set(known);
  for (const spec of specs) {
    for (const key of Object.keys(spec.qemu ?? {})) {
      if (names.has(key)) continue;
      const qemuKeys = known.filter((k) => !Object.hasOwn(QEMU_RESERVED, k) && !Object.hasOwn(QEMU_ALIASES, k) && !KEYS.includes(k));
      throw new PhyrError('PHYR_VM_SPEC', `unknown --nvme key '${key}': the testbed's keys are ${KEYS.join(', ')}; QEMU's nvme properties (qemu-system-x86_64 -device nvme,help) are ${qemuKeys.join(', ')}`);
    }
  }
}

/** Where controller `index` sits on the guest's root bus. */
export const controllerBdf = (index: number): string => `0000:00:${(FIRST_SLOT + index).toString(16).padStart(2, '0')}.0`;

/** QEMU arguments for the controllers, with the backing files they need created by the caller. */
export function nvmeQemuArgs(specs: NvmeControllerSpec[], imageDir: string): { args: string[]; images: { path: string; size: number }[]; placed: PlacedController[] } {
  if (specs.length > MAX_CONTROLLERS) throw new PhyrError('PHYR_VM_SPEC', `at most ${MAX_CONTROLLERS} --nvme controllers`);
  const args: string[] = [];
  const images: { path: string; size: number }[] = [];
  const placed: PlacedController[] = [];
  let rootPorts = 0;
  specs.forEach((spec, c) => {
    const serial = `phyr-vm-${c}`;
    const slot = `0x${(FIRST_SLOT + c).toString(16)}`;
    let bdf = controllerBdf(c);
    const props = [`nvme`, `id=nvme${c}`, `serial=${serial}`];
    if (spec.hotplug) {
      rootPorts++;
      args.push('-device', `pcie-root-port,id=rp${c},bus=pcie.0,addr=${slot},chassis=${c + 1},slot=${c + 1}`);
      props.push(`bus=rp${c}`, 'addr=0x0');
      bdf = `0000:${rootPorts.toString(16).padStart(2, '0')}:00.0`;
    } else props.push(`addr=${slot}`);
    if (spec.mdts !== undefined) props.push(`mdts=${spec.mdts}`);
    if (spec.maxQueuePairs !== undefined) props.push(`max_ioqpairs=${spec.maxQueuePairs}`);
    if (spec.cmbMiB) props.push(`cmb_size_mb=${spec.cmbMiB}`);
    for (const [k, v] of Object.entries(spec.qemu ?? {})) props.push(`${k}=${v}`);
    args.push('-device', props.join(','));
    for (let n = 1; n <= spec.namespaces; n++) {
      const node = `nvme${c}n${n}`;
      if (spec.backing === 'null') {
        args.push('-blockdev', `driver=null-co,node-name=${node},size=${spec.size},read-zeroes=on`);
      } else {
        const img = n === 1 && spec.file ? spec.file : path.join(imageDir, `${node}.img`);
        if (!(n === 1 && spec.file)) images.push({ path: img, size: spec.size });
        // discard=unmap: Dataset Management deallocate punches holes, so deallocated blocks
        // read as zeros as the controller's DLFEAT promises.
        args.push('-blockdev', `driver=file,node-name=${node}f,filename=${img},cache.direct=off,discard=unmap`);
        args.push('-blockdev', `driver=raw,node-name=${node},file=${node}f,discard=unmap`);
      }
      const bs = 2 ** spec.lbads[(n - 1) % spec.lbads.length];
      args.push('-device', `nvme-ns,drive=${node},bus=nvme${c},nsid=${n},logical_block_size=${bs},physical_block_size=${bs}`);
    }
    placed.push({ ...spec, bdf, serial });
  });
  return { args, images, placed };
}
