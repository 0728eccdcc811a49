// reset, show-regs, admin-passthru, io-passthru: a controller reset (NVMe 1.4 §7.3.2), the
// controller registers (§3.1), a raw admin command and a raw NVM command.
import { NVME } from '../../../spec/nvme';
import { read32, read64 } from '../../../lib/mmio';
import { adminSqe, opcodeName } from '../../../drivers/nvme';
import { NvmeUsageError, outputFormatOption } from '../args';
import { JcObject, int32, jsonC } from '../json-c';
import { hexDump } from '../normal';
import { FORCE_OPTION, NAMESPACE_OPTION, RAW_OPTION, num, type Subcommand, type SubcommandContext } from '../subcommand';
import type { OptionValues } from '../args';
import { runIoCommand } from '../io-command';
import { readFileSync } from 'node:fs';

export const reset: Subcommand = {
  name: 'reset',
  summary: 'Resets the NVMe controller (disable, re-enable, every queue recreated).',
  options: [],
  async run(ctx) {
    await ctx.dev.ctrl.reset('phyr nvme reset');
    return 0;
  },
};

/** The registers nvme-cli's show-regs prints, in its order: name, offset, 64-bit. */
const REGISTERS: ReadonlyArray<[string, number, boolean]> = [
  ['cap', NVME.REG_CAP, true], ['vs', NVME.REG_VS, false], ['intms', NVME.REG_INTMS, false], ['intmc', NVME.REG_INTMC, false],
  ['cc', NVME.REG_CC, false], ['csts', NVME.REG_CSTS, false], ['nssr', NVME.REG_NSSR, false], ['crto', NVME.REG_CRTO, false],
  ['aqa', NVME.REG_AQA, false], ['asq', NVME.REG_ASQ, true], ['acq', NVME.REG_ACQ, true], ['cmbloc', NVME.REG_CMBLOC, false],
  ['cmbsz', NVME.REG_CMBSZ, false], ['bpinfo', NVME.REG_BPINFO, false], ['bprsel', NVME.REG_BPRSEL, false],
  ['bpmbl', NVME.REG_BPMBL, true], ['cmbmsc', NVME.REG_CMBMSC, true], ['cmbsts', NVME.REG_CMBSTS, false],
  ['pmrcap', NVME.REG_PMRCAP, false], ['pmrctl', NVME.REG_PMRCTL, false], ['pmrsts', NVME.REG_PMRSTS, false],
  ['pmrebs', NVME.REG_PMREBS, false], ['pmrswtp', NVME.REG_PMRSWTP, false], ['pmrmscl', NVME.REG_PMRMSCL, false],
  ['pmrmscu', NVME.REG_PMRMSCU, false],
];

/** Bytes nvme-cli's show-regs covers (0000h..0E1Bh, through PMRMSCU). */
const REGISTER_SPAN = NVME.REG_PMRMSCU + 4;

export const showRegs: Subcommand = {
  name: 'show-regs',
  summary: 'Reads and shows the defined NVMe controller registers (00h..E1Bh) as text, JSON or binary.',
  options: [outputFormatOption()],
  async run(ctx) {
    const bar = ctx.dev.ctrl.fn.bar(0);
    if (ctx.format === 'binary') {
      const out = new Uint8Array(REGISTER_SPAN);
      const v = new DataView(out.buffer);
      for (let o = 0; o < REGISTER_SPAN; o += 4) v.setUint32(o, read32(bar, o), true);
      ctx.io.bytes(out);
      return 0;
    }
    if (ctx.format === 'json') {
      const root = new JcObject();
      for (const [name, off, wide] of REGISTERS) root.add(name, wide ? read64(bar, off) : int32(read32(bar, off)));
      ctx.io.out(jsonC(root));
      return 0;
    }
    ctx.io.out(REGISTERS.map(([name, off, wide]) => `${name.padEnd(8)}: ${wide ? read64(bar, off).toString(16) : read32(bar, off).toString(16)}`).join('\n'));
    return 0;
  },
};

// Admin commands that only read: admin-passthru sends them without --force. Queue
// management, Abort and Asynchronous Event Request belong to the driver and are refused.
const READ_ONLY = new Set<number>([NVME.ADMIN_IDENTIFY, NVME.ADMIN_GET_LOG_PAGE, NVME.ADMIN_GET_FEATURES]);
const DRIVER_OWNED = new Set<number>([NVME.ADMIN_CREATE_SQ, NVME.ADMIN_CREATE_CQ, NVME.ADMIN_DELETE_SQ, NVME.ADMIN_DELETE_CQ, NVME.ADMIN_ABORT, NVME.ADMIN_ASYNC_EVENT_REQUEST]);

const CDW_OPTIONS = ([2, 3, 10, 11, 12, 13, 14, 15] as const).map((n) => ({ long: `cdw${n}`, short: n < 10 ? String(n) : String(n - 6), kind: 'u32' as const, help: `command dword ${n} value` }));

/** The options admin-passthru and io-passthru share (nvme-cli's). */
const PASSTHRU_OPTIONS = [
  { long: 'opcode', short: 'o', kind: 'u8' as const, help: 'opcode (required)' },
  { ...NAMESPACE_OPTION, help: 'desired namespace' },
  { long: 'data-len', short: 'l', kind: 'u32' as const, help: 'data I/O length (bytes)' },
  { long: 'timeout', short: 't', kind: 'u32' as const, help: 'timeout value, in milliseconds' },
  ...CDW_OPTIONS,
  { long: 'input-file', short: 'i', kind: 'string' as const, help: 'data input or output file' },
  RAW_OPTION,
  { long: 'read', short: 'r', kind: 'flag' as const, help: 'set dataflow direction to receive' },
  { long: 'write', short: 'w', kind: 'flag' as const, help: 'set dataflow direction to send' },
  FORCE_OPTION,
];

/** A passthru command line: the SQE, the data direction and what to send. */
function passthruCommand(values: OptionValues): { opcode: number; sqe: Uint8Array; len: number; read: boolean; input?: Uint8Array } {
  const opcode = num(values, 'opcode');
  if (opcode === undefined) throw new NvmeUsageError('--opcode (-o) is required');
  const len = num(values, 'data-len') ?? 0;
  const read = values.read === true;
  const write = values.write === true;
  if (len && read === write) throw new NvmeUsageError('data direction not given: --read (-r) or --write (-w) with --data-len');
  let input: Uint8Array | undefined;
  if (write && len) {
    const file = values['input-file'];
    if (typeof file !== 'string') throw new NvmeUsageError('--write needs --input-file (-i) with the data to send');
    input = readFileSync(file);
    if (input.length < len) throw new NvmeUsageError(`--input-file ${file} holds ${input.length} bytes, fewer than --data-len ${len}`);
  }
  const c = (n: number): number => num(values, `cdw${n}`) ?? 0;
  const sqe = adminSqe(opcode, { nsid: num(values, 'namespace-id') ?? 0, cdw10: c(10), cdw11: c(11), cdw12: c(12), cdw13: c(13), cdw14: c(14), cdw15: c(15) });
  const w = new Uint32Array(sqe.buffer);
  w[2] = c(2);
  w[3] = c(3);
  return { opcode, sqe, len, read, input };
}

function passthruResult(ctx: SubcommandContext, admin: boolean, opcode: number, dw0: number, read: boolean, data: Uint8Array): number {
  const known = opcodeName(admin, opcode);
  const name = /opcode 0x/.test(known) ? 'Vendor Specific' : known;
  ctx.io.err(`${admin ? 'Admin' : 'IO'} Command ${name} is Success and result: 0x${(dw0 >>> 0).toString(16).padStart(8, '0')}`);
  if (read && data.length) {
    if (ctx.values['raw-binary'] === true) ctx.io.bytes(data);
    else ctx.io.out(hexDump(data));
  }
  return 0;
}

export const adminPassthru: Subcommand = {
  name: 'admin-passthru',
  summary: "Send a user-defined Admin command to the specified device via the driver's admin queue, and report the result.",
  destructive: (values) => !READ_ONLY.has(num(values, 'opcode') ?? -1),
  options: PASSTHRU_OPTIONS,
  async run(ctx) {
    const p = passthruCommand(ctx.values);
    if (DRIVER_OWNED.has(p.opcode)) throw new NvmeUsageError(`${opcodeName(true, p.opcode)} belongs to the driver (it manages queues, aborts and events itself)`);
    const { dw0, data } = await ctx.dev.admin(p.sqe, p.len, p.input);
    return passthruResult(ctx, true, p.opcode, dw0, p.read, data);
  },
};

// NVM commands that do not change data: io-passthru sends them without --force.
const IO_READ_ONLY = new Set<number>([NVME.IO_READ, NVME.IO_COMPARE, NVME.IO_VERIFY, NVME.IO_FLUSH]);
const DEFAULT_PASSTHRU_TIMEOUT_MS = 30_000;

export const ioPassthru: Subcommand = {
  name: 'io-passthru',
  summary: 'Send a user-defined IO command to the specified device on an IO queue of its own, and report the result.',
  destructive: (values) => !IO_READ_ONLY.has(num(values, 'opcode') ?? -1),
  options: PASSTHRU_OPTIONS,
  async run(ctx) {
    const p = passthruCommand(ctx.values);
    const { dw0, data } = await runIoCommand(ctx.dev.ctrl, p.sqe, p.len, p.input, num(ctx.values, 'timeout') || DEFAULT_PASSTHRU_TIMEOUT_MS);
    return passthruResult(ctx, false, p.opcode, dw0, p.read, data);
  },
};
