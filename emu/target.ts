// Parses the embedded controller's target string: 'emu' or 'emu:key=value,...'.
// Every key is known here; an unknown key or a bad value is rejected with a message that
// lists what is valid. The result is plain data (no native code involved).
import { CMBSZ_DEFAULT, parseCmbsz } from './cmbsz';
import { checkFaultFits, parseFault } from './faults';
import { EmuTargetError, parseDuration, parseSize } from './values';

export { EmuTargetError, MAX_DURATION_NS, parseDuration, parseSize } from './values';

/** Per-command latency model. */
export type LatencyModel =
  | { kind: 'fixed'; ns: number }
  | { kind: 'uniform'; minNs: number; maxNs: number }
  | { kind: 'exponential'; meanNs: number };

/** SGL support the controller advertises (Identify Controller SGLS). */
export type SglMode = 'off' | 'on' | 'dword';

/** Parsed emulated-controller options (the defaults apply to keys not given). */
export interface EmuOptions {
  /**
   * Namespace storage: nodata (moves no data at all: a read leaves the host buffer as it
   * was; for benchmarks only), null (discard, reads zeros), ram (sparse) or file (persistent).
   */
  backend: 'nodata' | 'null' | 'ram' | 'file';
  /** Backing file for backend=file. */
  path?: string;
  /** Number of namespaces. */
  namespaces: number;
  /** log2 of the LBA size: 9 (512 B) or 12 (4 KiB). */
  lbads: 9 | 12;
  /** Capacity of each namespace in bytes. */
  nsBytes: number;
  /** IO queue pairs offered (Number of Queues feature maximum). */
  queues: number;
  /** Largest queue, in entries (CAP.MQES + 1). */
  qsize: number;
  /** MSI-X table size (interrupt vectors); undefined: one per queue (queues + 1). */
  vectors?: number;
  /** MDTS: max transfer 2^mdts x 4 KiB; 0 = no limit. */
  mdts: number;
  /** SGL support: off, on (byte aligned), dword (dword aligned). */
  sgl: SglMode;
  /** Controller memory buffer size in bytes (0 = none). */
  cmbBytes: number;
  /** CMBSZ support bits (SQS, CQS, LISTS, RDS, WDS) the CMB publishes and enforces (3.1.13). */
  cmbSupport: number;
  /** Per-command latency model, if any. */
  latency?: LatencyModel;
  /** Commands per second cap, if any. */
  iops?: number;
  /** Bytes per second cap, if any. */
  bandwidth?: number;
  /** Commands executing inside the device at once, if capped. */
  inflight?: number;
  /** Fault injection specs (see docs/EMULATOR.md), as given. */
  faults: string[];
  /**
   * Shadow doorbells offered and implemented: Identify Controller OACS bit 8 and Doorbell
   * Buffer Config (NVMe 1.4 §5.7). Off by default, so the default controller stays the
   * MMIO-doorbell one every earlier run measured.
   */
  dbbuf: boolean;
  /**
   * BAR0 in shared memory (a memfd): another process can map the registers and doorbells
   * (`phyr serve`, docs/SERVE.md). Off by default: private memory, as every earlier run.
   */
  shared: boolean;
  /** Serial number (Identify Controller SN), at most 20 characters. */
  serial: string;
}

/** Defaults of every option. */
export const EMU_DEFAULTS: Readonly<EmuOptions> = Object.freeze({
  backend: 'ram',
  namespaces: 1,
  lbads: 9,
  nsBytes: 1 << 30,
  queues: 64,
  qsize: 1024,
  mdts: 7,
  sgl: 'off',
  cmbBytes: 0,
  cmbSupport: CMBSZ_DEFAULT,
  faults: [],
  dbbuf: false,
  shared: false,
  serial: 'PHYREMU0001',
} as EmuOptions);

// A cap or latency of 0 would mean "none" for some keys and be refused for others: every
// such key refuses it, and leaving the key out is how to say "none".
function positive(key: string, text: string, n: number, what: string): number {
  if (n === 0) throw new EmuTargetError(`${key}=${text}: ${what} must be positive; leave ${key} out for none`, key);
  return n;
}

/** Parses 'latency=' values: '80us' (fixed), '60us-100us' (uniform), 'exp:80us' (exponential). */
export function parseLatency(text: string): LatencyModel {
  if (text.startsWith('exp:')) return { kind: 'exponential', meanNs: positive('latency', text, parseDuration(text.slice(4)), 'the mean latency') };
  const dash = text.indexOf('-');
  if (dash > 0) {
    const minNs = parseDuration(text.slice(0, dash));
    const maxNs = parseDuration(text.slice(dash + 1));
    if (maxNs < minNs) throw new EmuTargetError(`latency=${text}: the upper bound is below the lower bound`, 'latency');
    positive('latency', text, maxNs, 'the upper bound');
    return { kind: 'uniform', minNs, maxNs };
  }
  return { kind: 'fixed', ns: positive('latency', text, parseDuration(text), 'the latency') };
}

function integer(key: string, text: string, min: number, max: number, what = ''): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new EmuTargetError(`${key}=${text}: expected an integer ${min}..${max}${what}`, key);
  }
  return Number(text);
}

type Setter = (o: EmuOptions, value: string) => void;

/** Every key the target accepts, with a one-line description (used in error messages). */
export const EMU_KEYS: Record<string, { help: string; set: Setter }> = {
  backend: {
    help: 'nodata | null | ram | file:PATH',
    set: (o, v) => {
      if (v === 'nodata' || v === 'null' || v === 'ram') o.backend = v;
      else if (v.startsWith('file:') && v.length > 5) {
        o.backend = 'file';
        o.path = v.slice(5);
      } else throw new EmuTargetError(`backend=${v}: expected nodata (moves no data), null (reads zeros), ram or file:PATH`, 'backend');
    },
  },
  ns: { help: 'number of namespaces, 1..1024', set: (o, v) => (o.namespaces = integer('ns', v, 1, 1024)) },
  lbads: {
    help: 'LBA size: 9 (512 B) or 12 (4 KiB)',
    set: (o, v) => {
      if (v !== '9' && v !== '12') throw new EmuTargetError(`lbads=${v}: expected 9 (512-byte LBAs) or 12 (4 KiB LBAs)`, 'lbads');
      o.lbads = Number(v) as 9 | 12;
    },
  },
  size: { help: 'capacity of each namespace, e.g. 1G', set: (o, v) => (o.nsBytes = parseSize(v, 'size')) },
  queues: { help: 'IO queue pairs offered, 1..1024', set: (o, v) => (o.queues = integer('queues', v, 1, 1024)) },
  qsize: { help: 'largest queue in entries (CAP.MQES + 1), 2..65536', set: (o, v) => (o.qsize = integer('qsize', v, 2, 65536)) },
  vectors: { help: 'MSI-X interrupt vectors, 1..2048 (default queues + 1)', set: (o, v) => (o.vectors = integer('vectors', v, 1, 2048)) },
  mdts: { help: 'max transfer 2^N x 4 KiB, 0..15 (0 = no limit)', set: (o, v) => (o.mdts = integer('mdts', v, 0, 15)) },
  sgl: {
    help: 'off | on | dword',
    set: (o, v) => {
      if (v !== 'off' && v !== 'on' && v !== 'dword') throw new EmuTargetError(`sgl=${v}: expected off, on (byte-aligned SGLs) or dword`, 'sgl');
      o.sgl = v;
    },
  },
  cmb: {
    help: 'controller memory buffer size, e.g. 16M (0 or off = none)',
    set: (o, v) => (o.cmbBytes = v === 'off' ? 0 : parseSize(v, 'cmb')),
  },
  cmbsz: {
    help: "CMB uses supported, sqs+cqs+lists+rds+wds (any subset) or none; default sqs+lists+rds+wds",
    set: (o, v) => (o.cmbSupport = parseCmbsz(v)),
  },
  latency: { help: 'per-command latency: 80us, 60us-100us or exp:80us', set: (o, v) => (o.latency = parseLatency(v)) },
  iops: { help: 'commands per second cap, 1..1000000000', set: (o, v) => (o.iops = integer('iops', v, 1, 1e9)) },
  bw: {
    help: 'bandwidth cap in bytes per second, e.g. 2G (1..1P)',
    set: (o, v) => {
      const n = positive('bw', v, parseSize(v, 'bw'), 'the bandwidth cap');
      if (n > 2 ** 50) throw new EmuTargetError(`bw=${v}: at most 1P (2^50 bytes per second)`, 'bw');
      o.bandwidth = n;
    },
  },
  inflight: { help: 'commands executing in the device at once, 1..65536', set: (o, v) => (o.inflight = integer('inflight', v, 1, 65536)) },
  faults: {
    help: "fault injection specs joined by '+' (fail, drop, delay, cfs, stop, resume, corrupt, remove, clear), e.g. fail:nth=100:status=0x281+corrupt:lba=100",
    set: (o, v) => {
      const specs = v.split('+');
      if (specs.some((f) => f.length === 0)) throw new EmuTargetError(`faults=${v}: an empty fault spec; give specs joined by '+', e.g. faults=fail:nth=10+cfs:after=100`, 'faults');
      o.faults = specs;
      for (const f of o.faults) parseFault(f); // reject a bad spec while parsing the target
    },
  },
  dbbuf: {
    help: 'on | off: shadow doorbells (Doorbell Buffer Config, OACS bit 8); default off',
    set: (o, v) => {
      if (v !== 'on' && v !== 'off') throw new EmuTargetError(`dbbuf=${v}: expected on (offer Doorbell Buffer Config: shadow doorbells) or off`, 'dbbuf');
      o.dbbuf = v === 'on';
    },
  },
  shared: {
    help: 'on | off: BAR0 in shared memory (memfd) another process can map (phyr serve); default off',
    set: (o, v) => {
      if (v !== 'on' && v !== 'off') throw new EmuTargetError(`shared=${v}: expected on (BAR0 in a memfd another process can map) or off`, 'shared');
      o.shared = v === 'on';
    },
  },
  serial: {
    help: 'serial number, 1..20 printable ASCII characters',
    set: (o, v) => {
      if (!/^[\x21-\x7e]{1,20}$/.test(v)) throw new EmuTargetError(`serial=${v}: expected 1..20 printable ASCII characters`, 'serial');
      o.serial = v;
    },
  },
};

function keyList(): string {
  return Object.entries(EMU_KEYS)
    .map(([k, { help }]) => `${k} (${help})`)
    .join(', ');
}

/** Parses a target string into options; throws EmuTargetError on anything unknown or bad. */
export function parseEmuTarget(target: string): EmuOptions {
  if (typeof target !== 'string') throw new EmuTargetError(`an emulated-controller target must be a string such as 'emu' or 'emu:size=1G' (got ${typeof target})`);
  const o: EmuOptions = { ...EMU_DEFAULTS, faults: [] };
  if (target === 'emu') return o;
  if (!target.startsWith('emu:')) throw new EmuTargetError(`'${target}' is not an emulated-controller target: use 'emu' or 'emu:key=value,...'`);
  const seen = new Set<string>();
  for (const item of target.slice(4).split(',')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) throw new EmuTargetError(`'${item}' in '${target}' is not key=value; valid keys: ${keyList()}`);
    const key = item.slice(0, eq);
    const value = item.slice(eq + 1);
    // Own keys only: 'constructor' or '__proto__' are not options.
    const spec = Object.hasOwn(EMU_KEYS, key) ? EMU_KEYS[key] : undefined;
    if (!spec) throw new EmuTargetError(`unknown key '${key}' in '${target}'; valid keys: ${keyList()}`, key);
    if (seen.has(key)) throw new EmuTargetError(`key '${key}' is given twice in '${target}'`, key);
    seen.add(key);
    spec.set(o, value);
  }
  const lba = 2 ** o.lbads;
  if (o.nsBytes < lba || o.nsBytes % lba !== 0) {
    throw new EmuTargetError(`size=${o.nsBytes}: must be a non-zero multiple of the LBA size (${lba} bytes)`, 'size');
  }
  if (o.nsBytes * o.namespaces > 2 ** 46) throw new EmuTargetError('ns x size must not exceed 64T', 'size');
  if (o.cmbBytes % 4096 !== 0 || o.cmbBytes > 2 ** 30) throw new EmuTargetError(`cmb=${o.cmbBytes}: must be a multiple of 4K, at most 1G`, 'cmb');
  if (seen.has('cmbsz') && o.cmbBytes === 0) throw new EmuTargetError('cmbsz= needs a CMB: give cmb=SIZE too', 'cmbsz');
  for (const f of o.faults) checkFaultFits(f, parseFault(f), o); // needs lbads and size, known only now
  return o;
}
