// The discovery log page (NVMe-oF §5.3): a 1024-byte header (generation counter, number of
// records, record format) and one 1024-byte entry per subsystem port a host may connect to.
// phyr's target has one port per listener; every entry names NVMe/TCP, the listener's
// address and service (port), and the subsystem's NQN.
import { NVMF } from '../spec/nvmf';

/** The NQN of the well-known discovery subsystem (NVMe-oF §7.3.2). */
export const DISCOVERY_NQN = 'nqn.2014-08.org.nvmexpress.discovery';

/** One entry of the log: a subsystem reachable at a TCP address. */
export interface DiscoveryEntry {
  subnqn: string;
  /** IPv4 or IPv6 address, as text. */
  address: string;
  port: number;
  portId: number;
}

function ascii(b: Buffer, at: number, size: number, text: string): void {
  b.fill(0, at, at + size);
  b.write(text, at, size, 'ascii');
}

/** The log page for `entries`; `generation` changes whenever the entries do. */
export function discoveryLog(entries: readonly DiscoveryEntry[], generation: number): Buffer {
  const b = Buffer.alloc(NVMF.DISC_LOG_HEADER_SIZE + entries.length * NVMF.DISC_LOG_ENTRY_SIZE);
  b.writeBigUInt64LE(BigInt(generation), NVMF.DISC_GENCTR);
  b.writeBigUInt64LE(BigInt(entries.length), NVMF.DISC_NUMREC);
  b.writeUInt16LE(0, NVMF.DISC_RECFMT);
  entries.forEach((e, i) => {
    const at = NVMF.DISC_LOG_HEADER_SIZE + i * NVMF.DISC_LOG_ENTRY_SIZE;
    b[at + NVMF.DISC_TRTYPE] = NVMF.TRTYPE_TCP;
    b[at + NVMF.DISC_ADRFAM] = e.address.includes(':') ? NVMF.ADRFAM_IPV6 : NVMF.ADRFAM_IPV4;
    b[at + NVMF.DISC_SUBTYPE] = NVMF.SUBTYPE_NVME;
    b[at + NVMF.DISC_TREQ] = NVMF.TREQ_NOT_SPECIFIED;
    b.writeUInt16LE(e.portId, at + NVMF.DISC_PORTID);
    b.writeUInt16LE(NVMF.CNTLID_DYNAMIC, at + NVMF.DISC_CNTLID);
    b.writeUInt16LE(32, at + NVMF.DISC_ASQSZ);
    ascii(b, at + NVMF.DISC_TRSVCID, 32, String(e.port));
    ascii(b, at + NVMF.DISC_SUBNQN, NVMF.NQN_SIZE, e.subnqn);
    ascii(b, at + NVMF.DISC_TRADDR, 256, e.address);
    b[at + NVMF.DISC_TSAS] = NVMF.TSAS_SECTYPE_NONE;
  });
  return b;
}
