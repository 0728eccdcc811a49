// Fault injection specs for the embedded controller, shared by faults=... in the target
// string (several joined by '+') and EmuFunction.inject(spec). Grammar (docs/EMULATOR.md):
//   fail:nth=N[:status=S][:op=O][:qid=Q]   fail every Nth matching IO command with S
//   fail:lba=L[:nsid=N][:status=S]          fail IO commands touching LBA L
//   drop:nth=N[:op=O][:qid=Q]               never post the completion of every Nth one
//   delay:time=D[:nth=N][:op=O][:qid=Q]     hold every Nth completion D longer (e.g. 500us)
//   cfs[:after=N]                           raise CSTS.CFS now, or after N more IO commands
//   cfs:sticky                              raise CSTS.CFS now and again at every enable
//                                           (CC.EN 0 -> 1) until clear: no reset recovers
//   stop:qid=Q / resume:qid=Q               stop / resume fetching from submission queue Q
//   corrupt:lba=L[:nsid=N][:nth=N][:byte=B] every Nth Read covering LBA L succeeds, but byte B
//                                           of that block reaches host memory inverted
//   answer:op=O[:qid=Q][:dw=N:value=V[:mask=M]][:status=S][:result=R][:nth=N]
//                                           admin (qid=0) or IO commands with opcode O (and
//                                           SQE dword N & M == V, N 0..15) are not executed: they
//                                           complete with S (default 0, success) and dw0 R;
//                                           breaks one rule of the spec for validate's self-test
//   unchecked:check=C                       (at creation only) the enable check C (aqa, asq,
//                                           iosqes, iocqes, mps) is skipped: a bad CC.EN
//                                           becomes ready instead of raising CSTS.CFS; or
//                                           cmbsz: the CMB accepts uses CMBSZ does not publish
//   clear                                   remove every rule, resume every queue
//   remove[:after=N]                        surprise removal, now or after N more IO commands:
//                                           BAR and config space read all ones, writes are
//                                           ignored, no more DMA or interrupts, commands in
//                                           flight never complete; permanent (clear keeps it)
// S is the 15-bit status field in hex: SCT << 8 | SC, plus 0x4000 for DNR (0x281 =
// Unrecovered Read Error). The default is 0x6 (Internal Error).
import { NVME } from '../spec/nvme';
import { EmuTargetError, parseDuration } from './values';

/** A parsed fault rule, in the shape the native device takes. */
export interface FaultRuleSpec {
  kind: 'fail' | 'fail-lba' | 'drop' | 'delay' | 'cfs' | 'stop' | 'resume' | 'clear' | 'corrupt' | 'remove' | 'answer' | 'unchecked';
  nth?: number;
  lba?: number;
  nsid?: number;
  status?: number;
  opcode?: number;
  qid?: number;
  delayNs?: number;
  after?: number;
  /** cfs:sticky: CSTS.CFS is raised again at every enable until `clear`. */
  sticky?: boolean;
  /** corrupt: the byte of the block that is inverted (below the LBA size). */
  byte?: number;
  /** answer: the command dword (10..15) to match, its value and mask. */
  matchDword?: number;
  matchValue?: number;
  matchMask?: number;
  /** answer: dw0 of the completion. */
  result?: number;
  /** unchecked: the enable check skipped. */
  check?: (typeof ENABLE_CHECKS)[number];
}

const OPCODES: Record<string, number> = {
  read: NVME.IO_READ,
  write: NVME.IO_WRITE,
  flush: NVME.IO_FLUSH,
  compare: NVME.IO_COMPARE,
  'write-zeroes': NVME.IO_WRITE_ZEROES,
  dsm: NVME.IO_DATASET_MANAGEMENT,
  verify: NVME.IO_VERIFY,
};

/** The enable checks an `unchecked` rule can skip (docs/EMULATOR.md, What is checked). */
export const ENABLE_CHECKS = ['aqa', 'asq', 'iosqes', 'iocqes', 'mps', 'cmbsz'] as const;

/** Parameters written bare, without `=value`. */
const FLAGS: Record<string, string[]> = { cfs: ['sticky'] };

const ALLOWED: Record<string, string[]> = {
  fail: ['nth', 'lba', 'nsid', 'status', 'op', 'qid'],
  drop: ['nth', 'op', 'qid'],
  delay: ['time', 'nth', 'op', 'qid'],
  cfs: ['after', 'sticky'],
  stop: ['qid'],
  resume: ['qid'],
  clear: [],
  corrupt: ['lba', 'nsid', 'nth', 'byte'],
  remove: ['after'],
  answer: ['qid', 'op', 'dw', 'value', 'mask', 'status', 'result', 'nth'],
  unchecked: ['check'],
};

function bad(spec: string, why: string): EmuTargetError {
  return new EmuTargetError(
    `fault '${spec}': ${why}; faults are fail:nth=N[:status=0x281][:op=read][:qid=Q], fail:lba=L[:nsid=N][:status=S], ` +
      `drop:nth=N, delay:time=500us[:nth=N], cfs[:after=N|:sticky], stop:qid=Q, resume:qid=Q, corrupt:lba=L[:nsid=N][:nth=N][:byte=B], remove[:after=N], ` +
      `answer:op=O[:qid=Q][:dw=N:value=V[:mask=M]][:status=S][:result=R][:nth=N], unchecked:check=${ENABLE_CHECKS.join('|')}, clear`,
    'faults',
  );
}

function int(spec: string, key: string, v: string, min: number, max: number, radix16 = false): number {
  const n = radix16 && /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw bad(spec, `${key}=${v} must be an integer ${min}..${max}`);
  return n;
}

/** Parses one fault spec; throws EmuTargetError naming what is wrong. */
export function parseFault(spec: string): FaultRuleSpec {
  const [kind, ...params] = spec.split(':');
  if (!Object.hasOwn(ALLOWED, kind)) throw bad(spec, `unknown kind '${kind}'`);
  const kv = new Map<string, string>();
  for (const p of params) {
    const eq = p.indexOf('=');
    const key = eq < 0 ? p : p.slice(0, eq);
    const flag = FLAGS[kind]?.includes(key) ?? false;
    if (flag && eq >= 0) throw bad(spec, `${key} takes no value (write '${kind}:${key}')`);
    if (!ALLOWED[kind].includes(key) || (eq < 0 && !flag)) throw bad(spec, `'${p}' is not a parameter of ${kind} (${ALLOWED[kind].join(', ') || 'none'})`);
    if (kv.has(key)) throw bad(spec, `${key}= is given twice`);
    kv.set(key, p.slice(eq + 1));
  }
  const r: FaultRuleSpec = { kind: kind as FaultRuleSpec['kind'] };
  const get = (k: string): string | undefined => kv.get(k);
  const op = get('op');
  if (op !== undefined) r.opcode = Object.hasOwn(OPCODES, op) ? OPCODES[op] : int(spec, 'op', op, 0, 255, true);
  if (get('qid') !== undefined) r.qid = int(spec, 'qid', get('qid') as string, 0, 65535);
  if (get('nth') !== undefined) r.nth = int(spec, 'nth', get('nth') as string, 1, Number.MAX_SAFE_INTEGER);
  if (get('status') !== undefined) {
    r.status = int(spec, 'status', get('status') as string, kind === 'answer' ? 0 : 1, 0x7fff, true);
  }
  switch (kind) {
    case 'fail':
      if (get('lba') !== undefined) {
        if (r.nth !== undefined || r.opcode !== undefined || r.qid !== undefined) throw bad(spec, 'lba= cannot be combined with nth, op or qid');
        r.kind = 'fail-lba';
        r.lba = int(spec, 'lba', get('lba') as string, 0, Number.MAX_SAFE_INTEGER);
        if (get('nsid') !== undefined) r.nsid = int(spec, 'nsid', get('nsid') as string, 1, 0xfffffffe);
      } else {
        if (r.nth === undefined) throw bad(spec, 'fail needs nth=N or lba=L');
        if (get('nsid') !== undefined) throw bad(spec, 'nsid= goes with lba=');
      }
      r.status ??= 0x6;
      break;
    case 'drop':
      if (r.nth === undefined) throw bad(spec, 'drop needs nth=N');
      break;
    case 'delay': {
      const time = get('time');
      if (time === undefined) throw bad(spec, 'delay needs time=D (e.g. 500us)');
      r.delayNs = parseDuration(time, 'faults');
      r.nth ??= 1;
      break;
    }
    case 'cfs':
    case 'remove':
      if (kv.has('sticky')) {
        if (kv.has('after')) throw bad(spec, 'sticky raises CSTS.CFS at once; it cannot be combined with after=');
        r.sticky = true;
      }
      r.after = get('after') === undefined ? 0 : int(spec, 'after', get('after') as string, 1, Number.MAX_SAFE_INTEGER);
      break;
    case 'stop':
    case 'resume':
      if (r.qid === undefined) throw bad(spec, `${kind} needs qid=Q`);
      break;
    case 'answer': {
      if (r.opcode === undefined) throw bad(spec, 'answer needs op=O (and qid=Q for one queue; 0 is the admin queue)');
      const dw = get('dw');
      if ((dw === undefined) !== (get('value') === undefined) || (get('mask') !== undefined && dw === undefined)) throw bad(spec, 'dw=N and value=V go together (mask=M with them)');
      if (dw !== undefined) {
        r.matchDword = int(spec, 'dw', dw, 0, 15);
        r.matchValue = int(spec, 'value', get('value') as string, 0, 0xffffffff, true);
        if (get('mask') !== undefined) r.matchMask = int(spec, 'mask', get('mask') as string, 0, 0xffffffff, true);
      }
      if (get('result') !== undefined) r.result = int(spec, 'result', get('result') as string, 0, 0xffffffff, true);
      r.status ??= 0;
      r.nth ??= 1;
      break;
    }
    case 'unchecked': {
      const check = get('check');
      if (!(ENABLE_CHECKS as readonly string[]).includes(check ?? '')) throw bad(spec, `unchecked needs check=${ENABLE_CHECKS.join('|')}`);
      r.check = check as (typeof ENABLE_CHECKS)[number];
      break;
    }
    case 'corrupt':
      if (get('lba') === undefined) throw bad(spec, 'corrupt needs lba=L');
      r.lba = int(spec, 'lba', get('lba') as string, 0, Number.MAX_SAFE_INTEGER);
      if (get('nsid') !== undefined) r.nsid = int(spec, 'nsid', get('nsid') as string, 1, 0xfffffffe);
      r.nth ??= 1;
      // 4095: the last byte of the largest LBA size (4 KiB); checkFaultFits narrows it.
      r.byte = get('byte') === undefined ? 0 : int(spec, 'byte', get('byte') as string, 0, 4095);
      break;
  }
  return r;
}

/** The namespace geometry a fault rule is checked against. */
export interface FaultGeometry {
  /** log2 of the LBA size (9 or 12). */
  lbads: number;
  /** Bytes per namespace. */
  nsBytes: number;
  namespaces: number;
}

/**
 * Checks a parsed rule against the controller it is meant for: a corrupt rule's byte must
 * lie inside one block, its LBA inside the namespace, its nsid among the namespaces.
 * Throws EmuTargetError naming the bad value.
 */
export function checkFaultFits(spec: string, r: FaultRuleSpec, g: FaultGeometry): void {
  if (r.kind !== 'corrupt') return;
  const blockBytes = 2 ** g.lbads;
  const blocks = g.nsBytes / blockBytes;
  if ((r.byte ?? 0) >= blockBytes) throw bad(spec, `byte=${r.byte} must be below the LBA size (${blockBytes} bytes)`);
  if ((r.lba ?? 0) >= blocks) throw bad(spec, `lba=${r.lba} is past the end of the namespace (${blocks} blocks)`);
  if (r.nsid !== undefined && r.nsid > g.namespaces) throw bad(spec, `nsid=${r.nsid}: the controller has ${g.namespaces} namespace(s)`);
}
