// One fabric controller: the association a host makes with a Connect on its admin queue
// (NVMe-oF §3.3), and the admin and IO commands it runs over it. Its registers are
// properties (NVMe-oF §3.4, §3.5) kept here; its Identify data is the backing controller's
// with the fields a fabric controller owns rewritten; IO goes to the backend's namespaces.
// A discovery controller (NVMe-oF §5) is the same class with no namespaces and the
// discovery log page.
import { NVME } from '../spec/nvme';
import { NVMF } from '../spec/nvmf';
import type { FabricBackend, FabricNamespace } from './backend';
import { SUCCESS, commandSequenceError, dword, invalidField, invalidOpcode, u64le, type FabricCommand, type FabricStatus } from './capsule';

/** What a command returns: its status, CQE dword 0, and the data it sends to the host. */
export interface CommandResult {
  status: FabricStatus;
  dw0?: number;
  dw1?: number;
  data?: Buffer;
}

/** The limits a fabric controller announces. */
export const FABRIC_LIMITS = {
  /** Entries per queue (CAP.MQES + 1, Identify MAXCMD). */
  queueEntries: 128,
  /** IO queues a host may create (Set Features Number of Queues is clamped to it). */
  ioQueues: 8,
  /** In-capsule data on IO queues (Identify IOCCSZ = (64 + this) / 16). */
  inCapsuleData: 8192,
  /** MDTS as a power of two of 4 KiB pages (CAP.MPSMIN is 0). */
  mdts: 5,
  /** Outstanding Asynchronous Event Requests (AERL + 1). */
  asyncEvents: 4,
};

const VERSION_1_3 = 0x10300;
// CAP (NVMe 1.4 §3.1.1): MQES, CQR (contiguous queues required), TO in 500 ms units, and
// CSS with the NVM command set; MPSMIN = MPSMAX = 0 (4 KiB).
const CAP_TIMEOUT_UNITS = 10;
const CAP_LOW = (FABRIC_LIMITS.queueEntries - 1) | (1 << 16) | (CAP_TIMEOUT_UNITS << NVME.CAP_TO_SHIFT);
const CAP_HIGH = NVME.CAP_CSS_NVM << (NVME.CAP_CSS_SHIFT - 32);

const lbaOutOfRange: FabricStatus = { sct: NVME.SCT_GENERIC, sc: NVME.SC_LBA_OUT_OF_RANGE };
const invalidNamespace: FabricStatus = { sct: NVME.SCT_GENERIC, sc: NVME.SC_INVALID_NAMESPACE };
const sglLengthInvalid: FabricStatus = { sct: NVME.SCT_GENERIC, sc: NVME.SC_DATA_SGL_LENGTH_INVALID };
const internalError: FabricStatus = { sct: NVME.SCT_GENERIC, sc: NVME.SC_INTERNAL_ERROR };
const invalidLogPage: FabricStatus = { sct: NVME.SCT_COMMAND_SPECIFIC, sc: NVME.SC_INVALID_LOG_PAGE };
const aerLimit: FabricStatus = { sct: NVME.SCT_COMMAND_SPECIFIC, sc: NVME.SC_ASYNC_EVENT_REQUEST_LIMIT_EXCEEDED };

/** The subsystem a controller belongs to, as the target configures it. */
export interface FabricSubsystem {
  nqn: string;
  /** Undefined for the discovery subsystem. */
  backend?: FabricBackend;
  /** The discovery log page's entries (only the discovery subsystem has them). */
  discoveryLog?: () => Buffer;
  /** Reads a log page of the backing controller (error, SMART, firmware slot). */
  logPage?: (lid: number, nsid: number, offset: number, bytes: number) => Promise<Buffer>;
}

/** A status from whatever a backend command threw: the controller's own status when it
 *  completed with one, else Internal Error. */
function statusOf(err: unknown): FabricStatus {
  const e = err as { sct?: unknown; sc?: unknown };
  if (typeof e?.sct === 'number' && typeof e?.sc === 'number') return { sct: e.sct, sc: e.sc };
  return internalError;
}

function writeNqn(b: Buffer, at: number, nqn: string): void {
  b.fill(0, at, at + NVMF.NQN_SIZE);
  b.write(nqn, at, NVMF.NQN_SIZE - 1, 'utf8');
}

export class FabricController {
  private cc = 0;
  private csts = 0;
  private ioQueues = 0;
  private asyncEventConfig = 0;
  /** Keep Alive Timeout in ms (Connect KATO, Set Features 0Fh); 0: none. */
  kato: number;
  /** When the host last showed it is alive (a Keep Alive or any command). */
  lastSeen = Date.now();
  private readonly aers: Array<(r: CommandResult) => void> = [];
  private closed = false;

  constructor(
    readonly cntlid: number,
    readonly hostnqn: string,
    readonly subsystem: FabricSubsystem,
    kato: number,
  ) {
    this.kato = kato;
  }

  get discovery(): boolean {
    return this.subsystem.backend === undefined;
  }

  /** True once CC.EN is set and the controller is ready (CSTS.RDY): IO queues may connect. */
  get enabled(): boolean {
    return (this.csts & NVME.CSTS_RDY) !== 0;
  }

  /** IO queue IDs 1..this may connect (Set Features Number of Queues). */
  get ioQueueLimit(): number {
    return this.ioQueues;
  }

  /** Ends the association: outstanding AERs are dropped with their connection. */
  close(): void {
    this.closed = true;
    this.aers.length = 0;
  }

  // ---- properties (NVMe-oF §3.4, §3.5): the registers of NVMe 1.4 §3.1 ----

  propertyGet(offset: number, size8: boolean): CommandResult {
    switch (offset) {
      case NVME.REG_CAP:
        return { status: SUCCESS, dw0: CAP_LOW, dw1: size8 ? CAP_HIGH : 0 };
      case NVME.REG_VS:
        return { status: SUCCESS, dw0: VERSION_1_3 };
      case NVME.REG_CC:
        return { status: SUCCESS, dw0: this.cc };
      case NVME.REG_CSTS:
        return { status: SUCCESS, dw0: this.csts };
      default:
        return { status: invalidField };
    }
  }

  propertySet(offset: number, value: number): CommandResult {
    if (offset !== NVME.REG_CC) return { status: invalidField };
    const wasEnabled = (this.cc & NVME.CC_EN) !== 0;
    this.cc = value >>> 0;
    const shn = (this.cc >>> NVME.CC_SHN_SHIFT) & 0x3;
    if (shn) this.csts = (this.csts & ~NVME.CSTS_SHST_MASK) | (NVME.SHST_COMPLETE << NVME.CSTS_SHST_SHIFT);
    if ((this.cc & NVME.CC_EN) && !wasEnabled) this.csts |= NVME.CSTS_RDY;
    if (!(this.cc & NVME.CC_EN)) this.csts &= ~NVME.CSTS_RDY;
    return { status: SUCCESS };
  }

  // ---- admin commands ----

  async admin(cmd: FabricCommand): Promise<CommandResult> {
    this.lastSeen = Date.now();
    const cdw10 = dword(cmd.sqe, 10);
    const cdw11 = dword(cmd.sqe, 11);
    switch (cmd.opcode) {
      case NVME.ADMIN_IDENTIFY:
        return this.identify(cdw10 & 0xff, cmd.nsid);
      case NVME.ADMIN_GET_LOG_PAGE:
        return this.getLogPage(cmd);
      case NVME.ADMIN_SET_FEATURES:
        return this.setFeature(cdw10 & 0xff, cdw11);
      case NVME.ADMIN_GET_FEATURES:
        return this.getFeature(cdw10 & 0xff);
      case NVME.ADMIN_KEEP_ALIVE:
        return { status: SUCCESS };
      case NVME.ADMIN_ASYNC_EVENT_REQUEST:
        if (this.aers.length >= FABRIC_LIMITS.asyncEvents) return { status: aerLimit };
        // Completed when an event happens; none is raised yet, so it waits for the end of
        // the association (NVMe 1.4 §5.2).
        return new Promise((resolve) => {
          if (!this.closed) this.aers.push(resolve);
        });
      default:
        return { status: invalidOpcode };
    }
  }

  private identify(cns: number, nsid: number): CommandResult {
    const backend = this.subsystem.backend;
    if (cns === NVME.CNS_CONTROLLER) return { status: SUCCESS, data: this.identifyController() };
    if (!backend) return { status: invalidField };
    if (cns === NVME.CNS_NAMESPACE || cns === NVME.CNS_NS_DESCRIPTORS) {
      const ns = backend.namespaces.get(nsid);
      if (!ns) return nsid === 0 || nsid === 0xffffffff ? { status: invalidNamespace } : { status: SUCCESS, data: Buffer.alloc(4096) };
      return { status: SUCCESS, data: Buffer.from(cns === NVME.CNS_NAMESPACE ? ns.identify : ns.descriptors) };
    }
    if (cns === NVME.CNS_ACTIVE_NS_LIST) {
      const list = Buffer.alloc(4096);
      const ids = [...backend.namespaces.keys()].filter((id) => id > nsid).sort((a, b) => a - b).slice(0, 1024);
      ids.forEach((id, i) => list.writeUInt32LE(id, i * 4));
      return { status: SUCCESS, data: list };
    }
    return { status: invalidField };
  }

  /** Identify Controller: the backing controller's data (vendor, serial, model, firmware,
   *  power states, ONCS, VWC) with the fields a fabric controller owns set here. */
  identifyController(): Buffer {
    const backend = this.subsystem.backend;
    const id = backend ? Buffer.from(backend.identify) : Buffer.alloc(4096);
    if (!backend) {
      id.write('phyr discovery controller'.padEnd(40), 24, 40, 'ascii');
      id.write('phyr'.padEnd(20), 4, 20, 'ascii');
    }
    id[NVMF.ID_CMIC] = 0;
    id[NVMF.ID_MDTS] = FABRIC_LIMITS.mdts;
    id.writeUInt16LE(this.cntlid, NVMF.ID_CNTLID);
    id.writeUInt32LE(VERSION_1_3, NVMF.ID_VER);
    id.writeUInt32LE(0, NVMF.ID_OAES);
    id.writeUInt32LE(0, NVMF.ID_CTRATT);
    id[NVMF.ID_CNTRLTYPE] = backend ? NVMF.CNTRLTYPE_IO : NVMF.CNTRLTYPE_DISCOVERY;
    // No namespace management, format, firmware, directives or doorbell buffers: the
    // backing controller belongs to phyr, not to the host (OACS 0).
    id.writeUInt16LE(0, NVMF.ID_OACS);
    id[NVMF.ID_AERL] = FABRIC_LIMITS.asyncEvents - 1;
    id[NVMF.ID_LPA] = 0;
    id[NVMF.ID_ELPE] = 0;
    id[NVMF.ID_APSTA] = 0;
    id.writeUInt16LE(1, NVMF.ID_KAS); // Keep Alive in 100 ms units
    id[NVMF.ID_SQES] = (NVME.IOSQES << 4) | NVME.IOSQES;
    id[NVMF.ID_CQES] = (NVME.IOCQES << 4) | NVME.IOCQES;
    id.writeUInt16LE(FABRIC_LIMITS.queueEntries, NVMF.ID_MAXCMD);
    id.writeUInt32LE(backend ? Math.max(0, ...backend.namespaces.keys()) : 0, NVMF.ID_NN);
    // ONCS: only what phyr passes on (Write Zeroes, Dataset Management); no timestamp,
    // reservations, compare or verify.
    const oncs = backend ? id.readUInt16LE(NVMF.ID_ONCS) & (NVME.ONCS_WRITE_ZEROES | NVME.ONCS_DSM) : 0;
    id.writeUInt16LE(oncs, NVMF.ID_ONCS);
    id.writeUInt16LE(0, NVMF.ID_FUSES);
    id.writeUInt32LE(NVME.SGLS_BYTE_ALIGNED | NVMF.SGLS_OFFSET, NVMF.ID_SGLS);
    writeNqn(id, NVMF.ID_SUBNQN, this.subsystem.nqn);
    id.writeUInt32LE((NVME.SQE_SIZE + FABRIC_LIMITS.inCapsuleData) / 16, NVMF.ID_IOCCSZ);
    id.writeUInt32LE(NVME.CQE_SIZE / 16, NVMF.ID_IORCSZ);
    id.writeUInt16LE(0, NVMF.ID_ICDOFF);
    id[NVMF.ID_FCATT] = 0; // the dynamic controller model
    id[NVMF.ID_MSDBD] = 1;
    return id;
  }

  private async getLogPage(cmd: FabricCommand): Promise<CommandResult> {
    const cdw10 = dword(cmd.sqe, 10);
    const lid = cdw10 & 0xff;
    const numd = ((dword(cmd.sqe, 11) & 0xffff) * 65536 + (cdw10 >>> 16)) + 1;
    const bytes = numd * 4;
    const offset = dword(cmd.sqe, 12) + dword(cmd.sqe, 13) * 2 ** 32;
    if (offset % 4 !== 0) return { status: invalidField };
    if (lid === NVMF.LID_DISCOVERY) {
      if (!this.subsystem.discoveryLog) return { status: invalidLogPage };
      const log = this.subsystem.discoveryLog();
      const out = Buffer.alloc(bytes);
      if (offset < log.length) log.copy(out, 0, offset, Math.min(log.length, offset + bytes));
      return { status: SUCCESS, data: out };
    }
    if (!this.subsystem.logPage) return { status: invalidLogPage };
    try {
      return { status: SUCCESS, data: await this.subsystem.logPage(lid, cmd.nsid, offset, bytes) };
    } catch (err) {
      return { status: statusOf(err) };
    }
  }

  private setFeature(fid: number, cdw11: number): CommandResult {
    switch (fid) {
      case NVME.FEAT_NUMBER_OF_QUEUES: {
        if (this.discovery) return { status: invalidField };
        const sq = Math.min((cdw11 & 0xffff) + 1, FABRIC_LIMITS.ioQueues);
        const cq = Math.min((cdw11 >>> 16) + 1, FABRIC_LIMITS.ioQueues);
        this.ioQueues = Math.min(sq, cq);
        return { status: SUCCESS, dw0: (this.ioQueues - 1) | ((this.ioQueues - 1) << 16) };
      }
      case NVME.FEAT_ASYNC_EVENT_CONFIG:
        this.asyncEventConfig = cdw11;
        return { status: SUCCESS };
      case NVME.FEAT_KEEP_ALIVE_TIMER:
        this.kato = cdw11;
        return { status: SUCCESS };
      default:
        return { status: invalidField };
    }
  }

  private getFeature(fid: number): CommandResult {
    switch (fid) {
      case NVME.FEAT_NUMBER_OF_QUEUES:
        if (this.discovery || this.ioQueues === 0) return { status: this.discovery ? invalidField : commandSequenceError };
        return { status: SUCCESS, dw0: (this.ioQueues - 1) | ((this.ioQueues - 1) << 16) };
      case NVME.FEAT_ASYNC_EVENT_CONFIG:
        return { status: SUCCESS, dw0: this.asyncEventConfig };
      case NVME.FEAT_KEEP_ALIVE_TIMER:
        return { status: SUCCESS, dw0: this.kato };
      default:
        return { status: invalidField };
    }
  }

  // ---- IO commands (NVMe 1.4 §6) ----

  /** Runs an IO command; `data` is the host's data for a write or DSM. */
  async io(cmd: FabricCommand, data: Uint8Array | undefined, readInto?: Uint8Array): Promise<CommandResult> {
    this.lastSeen = Date.now();
    const backend = this.subsystem.backend;
    if (!backend) return { status: invalidOpcode };
    if (cmd.opcode === NVME.IO_FLUSH && cmd.nsid === 0xffffffff) {
      try {
        for (const ns of backend.namespaces.values()) await ns.flush();
        return { status: SUCCESS };
      } catch (err) {
        return { status: statusOf(err) };
      }
    }
    const ns = backend.namespaces.get(cmd.nsid);
    if (!ns) return { status: invalidNamespace };
    try {
      return await this.ioOn(ns, cmd, data, readInto);
    } catch (err) {
      return { status: statusOf(err) };
    }
  }

  private async ioOn(ns: FabricNamespace, cmd: FabricCommand, data: Uint8Array | undefined, readInto: Uint8Array | undefined): Promise<CommandResult> {
    const slba = dword(cmd.sqe, 10) + dword(cmd.sqe, 11) * 2 ** 32;
    const nlb = (dword(cmd.sqe, 12) & 0xffff) + 1;
    const inRange = slba + nlb <= ns.blocks;
    switch (cmd.opcode) {
      case NVME.IO_READ:
        if (!inRange) return { status: lbaOutOfRange };
        if (cmd.sgl.length !== nlb * ns.lbaSize) return { status: sglLengthInvalid };
        return { status: SUCCESS, data: await ns.read(slba, nlb, readInto && readInto.length === cmd.sgl.length ? readInto : undefined) };
      case NVME.IO_WRITE:
        if (!inRange) return { status: lbaOutOfRange };
        if (!data || data.length !== nlb * ns.lbaSize) return { status: sglLengthInvalid };
        await ns.write(slba, data);
        return { status: SUCCESS };
      case NVME.IO_FLUSH:
        await ns.flush();
        return { status: SUCCESS };
      case NVME.IO_WRITE_ZEROES:
        if (!inRange) return { status: lbaOutOfRange };
        await ns.writeZeroes(slba, nlb);
        return { status: SUCCESS };
      case NVME.IO_DATASET_MANAGEMENT: {
        // NVMe 1.4 §6.7: NR (0's based) ranges of 16 bytes: attributes, length, SLBA; only
        // the Deallocate attribute (CDW11 bit 2) asks for an action.
        const ranges = (dword(cmd.sqe, 10) & 0xff) + 1;
        if (!data || data.length < ranges * 16) return { status: sglLengthInvalid };
        const deallocate = (dword(cmd.sqe, 11) & 0x4) !== 0;
        for (let i = 0; i < ranges; i++) {
          const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
          const count = view.readUInt32LE(i * 16 + 4);
          const lba = u64le(view, i * 16 + 8);
          if (lba + count > ns.blocks) return { status: lbaOutOfRange };
          if (deallocate && count > 0) await ns.deallocate(lba, count);
        }
        return { status: SUCCESS };
      }
      default:
        return { status: invalidOpcode };
    }
  }
}
