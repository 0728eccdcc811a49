// The embedded emulated NVMe controller as a PciFunction: target 'emu' (the default).
// The device model runs natively on its own thread (emu/native); this module opens it, and
// offers the extras the emulator has over real hardware (fault log, stats, peers).
import { PhyrError } from '../lib/errors';
import { addonRoom } from '../lib/native';
import type { DmaAccess, IovaRange, PciFunction } from '../lib/pci/function';
import { checkFaultFits, parseFault, type FaultRuleSpec } from './faults';
import { EmuTargetError, parseEmuTarget, type EmuOptions } from './target';

export { EmuTargetError, parseEmuTarget, EMU_DEFAULTS, EMU_KEYS, parseSize, parseDuration, parseLatency } from './target';
export type { EmuOptions, LatencyModel, SglMode } from './target';
export { parseFault, checkFaultFits } from './faults';
export type { FaultRuleSpec, FaultGeometry } from './faults';

/** Where a faulting device access happened. */
export type IommuFaultSite = 'sq-fetch' | 'cq-post' | 'prp-list' | 'sgl-segment' | 'data' | 'shadow-doorbell';

/** One IOMMU fault: the device touched [iova, iova + length) without a mapping allowing it. */
export interface IommuFault {
  iova: number;
  length: number;
  /** 'write' when the device was writing host memory. */
  access: 'read' | 'write';
  site: IommuFaultSite;
  /** Queue, command id and opcode of the command (0 for queue fetch/post faults). */
  sqid: number;
  cid: number;
  opcode: number;
}

/** Device counters since creation. */
export interface EmuStats {
  commands: number;
  adminCommands: number;
  ioCommands: number;
  /** Completions with a non-zero status. */
  errors: number;
  /** Bytes the device wrote to host memory for Read commands. */
  bytesRead: number;
  /** Bytes the device took from host memory for Write commands. */
  bytesWritten: number;
  /** Interrupt eventfd signals. */
  interrupts: number;
  /** Doorbell writes with an invalid value (ignored by the device). */
  invalidDoorbells: number;
  /** Read commands whose data a corrupt:lba=L rule corrupted (they completed with success). */
  corruptedReads: number;
  /**
   * Durability points reached on the file backend, one fdatasync each: Flush, every FUA
   * write or Write Zeroes, every write-type command while the volatile write cache is off,
   * turning the cache off, shutdown. Always 0 for null and ram (nothing outlives them).
   */
  syncs: number;
  /**
   * IO queue doorbell updates the device saw in its MMIO doorbell registers (the admin
   * queue, never shadowed, is not counted). Sampled at the device's passes: several writes
   * between two reads count once.
   */
  mmioDoorbellUpdates: number;
  /** IO queue doorbell updates the device saw in the shadow doorbell page (dbbuf=on; sampled likewise). */
  shadowDoorbellUpdates: number;
  /** EventIdx entries the device wrote (dbbuf=on). */
  eventIdxWrites: number;
  /** Count per admin opcode (decimal opcode as key). */
  adminOpcodes: Record<string, number>;
  /** Count per IO opcode (decimal opcode as key). */
  ioOpcodes: Record<string, number>;
}

/** The embedded controller's PCI function. */
export interface EmuFunction extends PciFunction {
  readonly kind: 'emu';
  /** The options it was created with. */
  readonly options: Readonly<EmuOptions>;
  /** The latest IOMMU faults (at most 256), oldest first. */
  faultLog(): IommuFault[];
  /** Faults since creation or the last clearFaults(). */
  faultCount(): number;
  clearFaults(): void;
  /** Run-time fault injection, same syntax as faults=... */
  inject(fault: string): void;
  stats(): EmuStats;
  /** Number of live IOMMU mappings (shared with peers). */
  mappingCount(): number;
  /** Completions held back by the timing model or a delay fault. */
  pendingCompletions(): number;
  /** A second function on the SAME IOMMU table (peer-to-peer into its CMB). */
  attachPeer(target: string): EmuFunction;
  /**
   * The memfd behind BAR `index` (BAR0 with `shared=on`), to send to another process that
   * maps it. Owned by the function: valid until close(); the receiver gets its own copy.
   */
  barFd(index: number): number;
}

interface NativeDevice {
  bar(index: number): ArrayBuffer;
  barSize(index: number): number;
  barFd(index: number): number;
  configRead(offset: number, size: number): number;
  configWrite(offset: number, size: number, value: number): void;
  dmaMap(memory: ArrayBuffer, offset: number, length: number, iova: number, read: boolean, write: boolean): void;
  dmaUnmap(iova: number, length: number): void;
  enableMsix(count: number): number[];
  faultLog(): IommuFault[];
  faultCount(): number;
  clearFaults(): void;
  stats(): EmuStats;
  mappingCount(): number;
  inject(rule: FaultRuleSpec): void;
  pendingCompletions(): number;
  close(): void;
}
interface EmuNative {
  EmuDevice: new (config: NativeConfig, peer?: NativeDevice) => NativeDevice;
}
interface NativeConfig {
  backend: string;
  path?: string;
  namespaces: number;
  lbads: number;
  nsBytes: number;
  queues: number;
  qsize: number;
  vectors?: number;
  mdts: number;
  sgl: number;
  cmbBytes: number;
  cmbSupport: number;
  dbbuf: number;
  sharedBar: number;
  serial: string;
  timing?: { latencyKind: number; latencyNs: number; latencyMaxNs: number; iops: number; bandwidth: number; inflight: number };
  faults: FaultRuleSpec[];
}

/** The device-address range the emulated IOMMU accepts. */
export const EMU_IOVA_RANGE: Readonly<IovaRange> = Object.freeze({ start: 0x100000, end: 2 ** 48 - 1 });

/**
 * The storage behind `backend=file:PATH` cannot be used: the path is not a regular file or a
 * block device (a directory, FIFO, socket, character device, or a file on a pseudo
 * filesystem such as /proc or /sys), it cannot be opened or created, or it is too small for
 * `ns x size`. The message says what was given and what is accepted.
 */
export class EmuBackendError extends PhyrError {
  constructor(
    message: string,
    /** The path given as backend=file:PATH. */
    readonly path: string | undefined,
  ) {
    super('PHYR_EMU_BACKEND', message);
  }
}

/**
 * The image of `backend=file:PATH` is held by another controller, in this process or
 * another: one medium serves one controller at a time (an exclusive lock, released when
 * the holder closes, is collected or exits).
 */
export class EmuImageLockedError extends PhyrError {
  constructor(
    message: string,
    readonly path: string | undefined,
    /** The process holding the image, when it could be found (this process's pid if it is ours). */
    readonly holderPid: number | undefined,
    /** The holder's command line, when readable. */
    readonly holderCommand: string | undefined,
  ) {
    super('PHYR_EMU_IMAGE_LOCKED', message);
  }
}

interface NativeCreateError extends Error {
  phyrCode?: string;
  reason?: string;
  holderPid?: number;
  holderCommand?: string;
}

// The native constructor reports backend failures with a code; anything else it refuses is
// a configuration the target parser should have caught, reported as a target error.
function typedCreateError(e: unknown, o: Readonly<EmuOptions>): Error {
  const n = e as NativeCreateError;
  const reason = n?.reason ?? n?.message ?? String(e);
  if (n?.phyrCode === 'PHYR_EMU_IMAGE_LOCKED') return new EmuImageLockedError(reason, o.path, n.holderPid, n.holderCommand);
  if (n?.phyrCode === 'PHYR_EMU_BACKEND') return new EmuBackendError(reason, o.path);
  return new EmuTargetError(`the emulated controller refused its configuration: ${reason}`);
}

/** An emulated function was used after close(). */
export class EmuClosedError extends PhyrError {
  constructor(what: string) {
    super('PHYR_EMU_CLOSED', `${what}: the emulated function is closed (open a new one with openEmu)`);
  }
}

function timingConfig(o: EmuOptions): NativeConfig['timing'] {
  if (!o.latency && o.iops === undefined && o.bandwidth === undefined && o.inflight === undefined) return undefined;
  const l = o.latency;
  return {
    latencyKind: !l ? 0 : l.kind === 'fixed' ? 1 : l.kind === 'uniform' ? 2 : 3,
    latencyNs: !l ? 0 : l.kind === 'fixed' ? l.ns : l.kind === 'uniform' ? l.minNs : l.meanNs,
    latencyMaxNs: l?.kind === 'uniform' ? l.maxNs : 0,
    iops: o.iops ?? 0,
    bandwidth: o.bandwidth ?? 0,
    inflight: o.inflight ?? 0,
  };
}

function nativeConfig(o: EmuOptions): NativeConfig {
  return {
    timing: timingConfig(o),
    faults: o.faults.map(parseFault),
    backend: o.backend,
    path: o.path,
    namespaces: o.namespaces,
    lbads: o.lbads,
    nsBytes: o.nsBytes,
    queues: o.queues,
    qsize: o.qsize,
    vectors: o.vectors,
    mdts: o.mdts,
    sgl: o.sgl === 'off' ? 0 : o.sgl === 'on' ? 1 : 2,
    cmbBytes: o.cmbBytes,
    cmbSupport: o.cmbSupport,
    dbbuf: o.dbbuf ? 1 : 0,
    sharedBar: o.shared ? 1 : 0,
    serial: o.serial,
  };
}

class EmuPciFunction implements EmuFunction {
  readonly kind = 'emu' as const;
  private device: NativeDevice | undefined;
  private readonly bars = new Map<number, ArrayBuffer>();

  constructor(
    readonly name: string,
    readonly options: Readonly<EmuOptions>,
    peerOf?: NativeDevice,
  ) {
    const { EmuDevice } = addonRoom<EmuNative>('emu');
    try {
      this.device = new EmuDevice(nativeConfig(options), peerOf);
    } catch (e) {
      throw typedCreateError(e, options);
    }
  }

  private live(what: string): NativeDevice {
    if (!this.device) throw new EmuClosedError(what);
    return this.device;
  }

  bar(index: number): ArrayBuffer {
    let b = this.bars.get(index);
    if (!b) {
      b = this.live('bar').bar(index);
      this.bars.set(index, b);
    }
    return b;
  }
  barSize(index: number): number {
    return this.live('barSize').barSize(index);
  }
  barFd(index: number): number {
    return this.live('barFd').barFd(index);
  }
  configRead(offset: number, size: 1 | 2 | 4): number {
    return this.live('configRead').configRead(offset, size);
  }
  configWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    this.live('configWrite').configWrite(offset, size, value);
  }
  iovaRanges(): IovaRange[] {
    return [{ ...EMU_IOVA_RANGE }];
  }
  dmaMap(memory: ArrayBuffer, offset: number, length: number, iova: number, access: DmaAccess): void {
    this.live('dmaMap').dmaMap(memory, offset, length, iova, access.read, access.write);
  }
  dmaUnmap(iova: number, length: number): void {
    this.live('dmaUnmap').dmaUnmap(iova, length);
  }
  enableMsix(count: number): number[] {
    return this.live('enableMsix').enableMsix(count);
  }
  faultLog(): IommuFault[] {
    return this.live('faultLog').faultLog();
  }
  faultCount(): number {
    return this.live('faultCount').faultCount();
  }
  clearFaults(): void {
    this.live('clearFaults').clearFaults();
  }
  inject(fault: string): void {
    const device = this.live('inject');
    const rule = parseFault(fault);
    if (rule.kind === 'unchecked') throw new EmuTargetError(`fault '${fault}': unchecked applies at creation only: give it in the target (faults=${fault})`, 'faults');
    checkFaultFits(fault, rule, this.options);
    device.inject(rule);
  }
  pendingCompletions(): number {
    return this.live('pendingCompletions').pendingCompletions();
  }
  stats(): EmuStats {
    return this.live('stats').stats();
  }
  mappingCount(): number {
    return this.live('mappingCount').mappingCount();
  }
  attachPeer(target: string): EmuFunction {
    const options = parseEmuTarget(target);
    return new EmuPciFunction(target, options, this.live('attachPeer'));
  }
  close(): void {
    this.device?.close();
    this.device = undefined;
    this.bars.clear();
  }
}

/** Opens an embedded controller from 'emu' or 'emu:key=value,...' (see EMU_KEYS). */
export function openEmu(target = 'emu'): EmuFunction {
  return new EmuPciFunction(target, parseEmuTarget(target));
}
export { EmuArena } from './memory';
export type { ArenaBuffer } from './memory';
