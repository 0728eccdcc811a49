// Identify data (NVMe 1.4 §5.15.2) parsed into typed objects whose field names are
// nvme-cli's (`nvme id-ctrl -o json`, `nvme id-ns -o json`), and printed the way
// nvme-cli prints them.

/** One power state descriptor (Identify Controller bytes 2048+32n). */
export interface PowerState {
  max_power: number;
  flags: number;
  entry_lat: number;
  exit_lat: number;
  read_tput: number;
  read_lat: number;
  write_tput: number;
  write_lat: number;
  idle_power: number;
  idle_scale: number;
  active_power: number;
  active_work_scale: number;
}

/** Identify Controller data structure (CNS 01h), nvme-cli field names. */
export interface IdentifyController {
  vid: number; ssvid: number; sn: string; mn: string; fr: string; rab: number; ieee: number;
  cmic: number; mdts: number; cntlid: number; ver: number; rtd3r: number; rtd3e: number;
  oaes: number; ctratt: number; rrls: number; cntrltype: number; fguid: string;
  crdt1: number; crdt2: number; crdt3: number; nvmsr: number; vwci: number; mec: number;
  oacs: number; acl: number; aerl: number; frmw: number; lpa: number; elpe: number;
  npss: number; avscc: number; apsta: number; wctemp: number; cctemp: number; mtfa: number;
  hmpre: number; hmmin: number; tnvmcap: number; unvmcap: number; rpmbs: number;
  edstt: number; dsto: number; fwug: number; kas: number; hctma: number; mntmt: number;
  mxtmt: number; sanicap: number; hmminds: number; hmmaxd: number; nsetidmax: number;
  endgidmax: number; anatt: number; anacap: number; anagrpmax: number; nanagrpid: number;
  pels: number; domainid: number; sqes: number; cqes: number; maxcmd: number; nn: number;
  oncs: number; fuses: number; fna: number; vwc: number; awun: number; awupf: number;
  icsvscc: number; nwpc: number; acwu: number; ocfs: number; sgls: number; mnan: number;
  subnqn: string; ioccsz: number; iorcsz: number; icdoff: number; fcatt: number;
  msdbd: number; ofcs: number; psds: PowerState[];
}

/** One LBA format (Identify Namespace bytes 128+4n): metadata size, data size (log2), relative performance. */
export interface LbaFormat {
  ms: number;
  ds: number;
  rp: number;
}

/** Identify Namespace data structure (CNS 00h), nvme-cli field names. */
export interface IdentifyNamespace {
  nsze: number; ncap: number; nuse: number; nsfeat: number; nlbaf: number; flbas: number;
  mc: number; dpc: number; dps: number; nmic: number; rescap: number; fpi: number;
  dlfeat: number; nawun: number; nawupf: number; nacwu: number; nabsn: number; nabo: number;
  nabspf: number; noiob: number; nvmcap: number; npwg: number; npwa: number; npdg: number;
  npda: number; nows: number; mssrl: number; mcl: number; msrc: number; anagrpid: number;
  nsattr: number; nvmsetid: number; endgid: number; nguid: string; eui64: string;
  lbafs: LbaFormat[];
}

class Reader {
  private readonly v: DataView;
  constructor(private readonly b: Uint8Array) {
    this.v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  u8(o: number): number {
    return this.v.getUint8(o);
  }
  u16(o: number): number {
    return this.v.getUint16(o, true);
  }
  u24(o: number): number {
    return this.u16(o) | (this.u8(o + 2) << 16);
  }
  u32(o: number): number {
    return this.v.getUint32(o, true);
  }
  /** u64 as a number (exact below 2^53). */
  u64(o: number): number {
    return this.u32(o) + this.u32(o + 4) * 2 ** 32;
  }
  /** u128 as a number (capacities; approximate above 2^53, as nvme-cli's long double). */
  u128(o: number): number {
    return this.u64(o) + this.u64(o + 8) * 2 ** 64;
  }
  /** ASCII field with trailing spaces and NULs removed. */
  str(o: number, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) {
      const c = this.b[o + i];
      s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : c === 0 ? '\0' : '.';
    }
    return s.replace(/[\0 ]+$/, '');
  }
  hex(o: number, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += this.b[o + i].toString(16).padStart(2, '0');
    return s;
  }
}

function need4k(data: Uint8Array, what: string): Reader {
  if (data.byteLength < 4096) throw new RangeError(`${what} needs the 4096-byte Identify data, got ${data.byteLength} bytes`);
  return new Reader(data);
}

/** Parses Identify Controller data (4096 bytes). */
export function parseIdentifyController(data: Uint8Array): IdentifyController {
  const r = need4k(data, 'Identify Controller');
  const npss = r.u8(263);
  const psds: PowerState[] = [];
  for (let i = 0; i <= npss && i < 32; i++) {
    const o = 2048 + 32 * i;
    psds.push({
      max_power: r.u16(o),
      flags: r.u8(o + 3),
      entry_lat: r.u32(o + 4),
      exit_lat: r.u32(o + 8),
      read_tput: r.u8(o + 12) & 0x1f,
      read_lat: r.u8(o + 13) & 0x1f,
      write_tput: r.u8(o + 14) & 0x1f,
      write_lat: r.u8(o + 15) & 0x1f,
      idle_power: r.u16(o + 16),
      idle_scale: r.u8(o + 18) >> 6,
      active_power: r.u16(o + 20),
      active_work_scale: r.u8(o + 22),
    });
  }
  return {
    vid: r.u16(0), ssvid: r.u16(2), sn: r.str(4, 20), mn: r.str(24, 40), fr: r.str(64, 8),
    rab: r.u8(72), ieee: r.u24(73), cmic: r.u8(76), mdts: r.u8(77), cntlid: r.u16(78),
    ver: r.u32(80), rtd3r: r.u32(84), rtd3e: r.u32(88), oaes: r.u32(92), ctratt: r.u32(96),
    rrls: r.u16(100), cntrltype: r.u8(111), fguid: r.hex(112, 16), crdt1: r.u16(128),
    crdt2: r.u16(130), crdt3: r.u16(132), nvmsr: r.u8(253), vwci: r.u8(254), mec: r.u8(255),
    oacs: r.u16(256), acl: r.u8(258), aerl: r.u8(259), frmw: r.u8(260), lpa: r.u8(261),
    elpe: r.u8(262), npss, avscc: r.u8(264), apsta: r.u8(265), wctemp: r.u16(266),
    cctemp: r.u16(268), mtfa: r.u16(270), hmpre: r.u32(272), hmmin: r.u32(276),
    tnvmcap: r.u128(280), unvmcap: r.u128(296), rpmbs: r.u32(312), edstt: r.u16(316),
    dsto: r.u8(318), fwug: r.u8(319), kas: r.u16(320), hctma: r.u16(322), mntmt: r.u16(324),
    mxtmt: r.u16(326), sanicap: r.u32(328), hmminds: r.u32(332), hmmaxd: r.u16(336),
    nsetidmax: r.u16(338), endgidmax: r.u16(340), anatt: r.u8(342), anacap: r.u8(343),
    anagrpmax: r.u32(344), nanagrpid: r.u32(348), pels: r.u32(352), domainid: r.u16(356),
    sqes: r.u8(512), cqes: r.u8(513), maxcmd: r.u16(514), nn: r.u32(516), oncs: r.u16(520),
    fuses: r.u16(522), fna: r.u8(524), vwc: r.u8(525), awun: r.u16(526), awupf: r.u16(528),
    icsvscc: r.u8(530), nwpc: r.u8(531), acwu: r.u16(532), ocfs: r.u16(534), sgls: r.u32(536),
    mnan: r.u32(540), subnqn: r.str(768, 256), ioccsz: r.u32(1792), iorcsz: r.u32(1796),
    icdoff: r.u16(1800), fcatt: r.u8(1802), msdbd: r.u8(1803), ofcs: r.u16(1804), psds,
  };
}

/** Parses Identify Namespace data (4096 bytes). */
export function parseIdentifyNamespace(data: Uint8Array): IdentifyNamespace {
  const r = need4k(data, 'Identify Namespace');
  const nlbaf = r.u8(25);
  const lbafs: LbaFormat[] = [];
  for (let i = 0; i <= nlbaf && i < 64; i++) {
    const o = 128 + 4 * i;
    lbafs.push({ ms: r.u16(o), ds: r.u8(o + 2), rp: r.u8(o + 3) & 3 });
  }
  return {
    nsze: r.u64(0), ncap: r.u64(8), nuse: r.u64(16), nsfeat: r.u8(24), nlbaf, flbas: r.u8(26),
    mc: r.u8(27), dpc: r.u8(28), dps: r.u8(29), nmic: r.u8(30), rescap: r.u8(31), fpi: r.u8(32),
    dlfeat: r.u8(33), nawun: r.u16(34), nawupf: r.u16(36), nacwu: r.u16(38), nabsn: r.u16(40),
    nabo: r.u16(42), nabspf: r.u16(44), noiob: r.u16(46), nvmcap: r.u128(48), npwg: r.u16(64),
    npwa: r.u16(66), npdg: r.u16(68), npda: r.u16(70), nows: r.u16(72), mssrl: r.u16(74),
    mcl: r.u32(76), msrc: r.u8(80), anagrpid: r.u32(92), nsattr: r.u8(99), nvmsetid: r.u16(100),
    endgid: r.u16(102), nguid: r.hex(104, 16), eui64: r.hex(120, 8), lbafs,
  };
}

/** The LBA format in use: FLBAS bits 3:0 (and 6:5 as the upper bits when nlbaf > 15). */
export function formatInUse(ns: IdentifyNamespace): number {
  return (ns.flbas & 0xf) | (ns.nlbaf > 15 ? ((ns.flbas >> 5) & 3) << 4 : 0);
}

// Fields nvme-cli prints in hexadecimal.
const HEX_CTRL = new Set(['vid', 'ssvid', 'ieee', 'cmic', 'ver', 'oaes', 'ctratt', 'cntrltype', 'oacs', 'frmw', 'lpa', 'avscc', 'apsta', 'sanicap', 'anacap', 'sqes', 'cqes', 'oncs', 'fuses', 'fna', 'vwc', 'icsvscc', 'nwpc', 'ocfs', 'sgls', 'fcatt', 'ofcs']);
const HEX_NS = new Set(['nsze', 'ncap', 'nuse', 'nsfeat', 'mc', 'dpc', 'dps', 'nmic', 'rescap', 'fpi', 'dlfeat', 'nsattr']);

function line(key: string, value: string | number, hex: boolean, width: number): string {
  const v = typeof value === 'number' && hex ? `0x${value.toString(16)}` : String(value);
  return `${key.padEnd(width)}: ${v}`;
}

/** nvme-cli's `id-ctrl` text layout. */
export function formatIdentifyController(c: IdentifyController): string {
  const out = ['NVME Identify Controller:'];
  for (const [k, v] of Object.entries(c)) {
    if (k === 'psds') continue;
    out.push(line(k, v as string | number, HEX_CTRL.has(k), 10));
  }
  c.psds.forEach((p, i) => {
    const watts = (p.max_power / 100).toFixed(2);
    out.push(`ps ${String(i).padStart(4)} : mp:${watts}W operational enlat:${p.entry_lat} exlat:${p.exit_lat} rrt:${p.read_tput} rrl:${p.read_lat}`);
    out.push(`          rwt:${p.write_tput} rwl:${p.write_lat} idle_power:- active_power:-`);
  });
  return out.join('\n');
}

/** nvme-cli's `id-ns` text layout. */
export function formatIdentifyNamespace(nsid: number, ns: IdentifyNamespace): string {
  const out = [`NVME Identify Namespace ${nsid}:`];
  for (const [k, v] of Object.entries(ns)) {
    if (k === 'lbafs') continue;
    out.push(line(k, v as string | number, HEX_NS.has(k), 8));
  }
  const inUse = formatInUse(ns);
  ns.lbafs.forEach((f, i) => {
    out.push(`lbaf ${String(i).padStart(2)} : ms:${String(f.ms).padEnd(3)} lbads:${String(f.ds).padEnd(2)} rp:0x${f.rp.toString(16)}${i === inUse ? ' (in use)' : ''}`);
  });
  return out.join('\n');
}
