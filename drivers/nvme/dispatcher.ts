// Promise-per-command on top of a queue pair's batch interface. Commands asked for in
// one tick are submitted together by one native call (a microtask flush); completions
// are reaped by poll() — from the controller's poller, an interrupt eventfd, or the
// application — and settle their commands. A command that does not fit (queue full) waits
// in order for the next reap.
import { PhyrError } from '../../lib/errors';
import type { PhyrArray } from '../../lib/phyr';
import {
  CPL,
  CPL_FLAG_CANCELLED,
  CPL_FLAGS_SHIFT,
  CPL_STATUS_CANCELLED,
  CPL_STATUS_MASK,
  CPL_WORDS,
  REQ,
  REQ_WORDS,
  RESULT_CODE_MASK,
  RESULT_ERROR_SHIFT,
  RESULT_FIELD_MASK,
  RESULT_REASON_SHIFT,
  SubmitResult,
} from './batch';
import { CommandInfo, DataPointerError, InvalidIoError } from './errors';
import { nvmeNative } from './native';
import type { QueuePair } from './queue-pair';

/** One command waiting for or in flight on a queue pair. */
export interface Command {
  info: CommandInfo;
  /** Settles the command: err undefined on success, dw0 = CQE DW0. */
  done(err: Error | undefined, dw0: number): void;
  /** Admin: the prepared SQE (raw path). */
  sqe?: Uint8Array;
  // IO command fields (see drivers/nvme/batch.ts).
  opcode: number;
  nsid: number;
  lba: number;
  blocks: number;
  lbaSize: number;
  rawCdw: boolean;
  cdw10: number;
  cdw11: number;
  cdw12Extra: number;
  dataBytes: number;
  /** Bytes of the first/last block a read discards (SGL Bit Buckets). */
  bucketHead: number;
  bucketTail: number;
  /** Data: one range (addr/len/flags) when `phyr` is undefined and len > 0. */
  addr: number;
  len: number;
  flags: number;
  phyr?: PhyrArray;
  /**
   * A part of a split IO (see Dispatcher.split): its data starts `phyrSkip` bytes into
   * entry `phyrStart` of `phyr`, is `partBytes` long and spans at most `partEntries`
   * entries. partBytes 0 = the whole array.
   */
  phyrStart: number;
  phyrSkip: number;
  partBytes: number;
  partEntries: number;
  /** Called when the controller asks for a bounce; returns false when impossible. */
  bounce?: (cmd: Command) => boolean;
  /** Set when an Abort was sent for this command. */
  aborted?: boolean;
  /** Set when it timed out (the rejection is a timeout error). */
  timedOut?: boolean;
}

/** A blank IO command (fields filled by the caller). */
export function newCommand(info: CommandInfo, done: Command['done']): Command {
  return {
    info,
    done,
    opcode: 0,
    nsid: 0,
    lba: 0,
    blocks: 0,
    lbaSize: 512,
    rawCdw: false,
    cdw10: 0,
    cdw11: 0,
    cdw12Extra: 0,
    dataBytes: 0,
    bucketHead: 0,
    bucketTail: 0,
    addr: 0,
    len: 0,
    flags: 0,
    phyrStart: 0,
    phyrSkip: 0,
    partBytes: 0,
    partEntries: 0,
  };
}

/** What the dispatcher needs from its controller. */
export interface DispatcherHost {
  /** More list pages for a queue pair; false when none can be had. */
  addListPages(qp: QueuePair): boolean;
  /** The error of a command cancelled by a reset. */
  cancelledError(cmd: Command): Error;
  /** Something was submitted: make sure completions will be reaped. */
  activity(): void;
  /** The error of a command the controller completed with a non-zero status. */
  statusError(cmd: Command, status: number): Error;
}

// Phyr entries a command puts into the arena.
function entriesOf(cmd: Command): number {
  return cmd.phyr ? (cmd.partBytes > 0 ? cmd.partEntries : cmd.phyr.length) : 1;
}

/** Drives one queue pair with promise-style commands. */
export class Dispatcher {
  private readonly inflight: Array<Command | undefined>;
  private readonly freeTags: number[] = [];
  private queue: Command[] = [];
  private flushScheduled = false;

  constructor(
    readonly qp: QueuePair,
    private readonly host: DispatcherHost,
  ) {
    const cap = qp.capacity;
    this.inflight = new Array<Command | undefined>(cap).fill(undefined);
    for (let t = cap - 1; t >= 0; t--) this.freeTags.push(t);
  }

  /** Commands submitted and not yet completed. */
  get outstanding(): number {
    return this.inflight.length - this.freeTags.length;
  }

  /** Commands waiting to be submitted. */
  get waiting(): number {
    return this.queue.length;
  }

  /** The command in flight under `tag`, if any. */
  commandOf(tag: number): Command | undefined {
    return this.inflight[tag];
  }

  /** Queues a command; it is submitted with the others of this tick. */
  enqueue(cmd: Command): void {
    this.queue.push(cmd);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Submits what is queued (one native call per batch). */
  flush(): void {
    this.flushScheduled = false;
    if (this.qp.isClosed) return;
    let submittedAny = false;
    while (this.queue.length > 0 && this.freeTags.length > 0) {
      const head = this.queue[0];
      if (head.sqe) {
        const r = this.submitAdmin(head);
        if (r === 'full') break;
        this.queue.shift();
        submittedAny ||= r === 'ok';
        continue;
      }
      const n = Math.min(this.queue.length, this.freeTags.length, this.qp.slots);
      let entries = 0;
      let batch = 0;
      for (; batch < n && !this.queue[batch].sqe; batch++) entries += entriesOf(this.queue[batch]);
      this.qp.ensureArena(entries);
      let entry = 0;
      // Tags are taken from the top of the free stack only once every slot is written: a
      // command whose fields the queue pair refuses is rejected on its own (this runs in a
      // microtask, where a throw would end the process) and the batch is built again
      // without it; nothing has been submitted yet.
      const top = this.freeTags.length;
      let slot = 0;
      try {
        for (; slot < batch; slot++) entry = this.writeSlot(slot, this.queue[slot], this.freeTags[top - 1 - slot], entry);
      } catch (e) {
        const [bad] = this.queue.splice(slot, 1);
        bad.done(e instanceof PhyrError ? e : new InvalidIoError(`${bad.info.name}: ${(e as Error).message}`), 0);
        continue;
      }
      this.freeTags.length = top - batch;
      const done = this.qp.submitBatch(0, batch);
      const req = this.qp.requests;
      for (let i = 0; i < done; i++) {
        const cmd = this.queue[i];
        const tag = req[i * REQ_WORDS + REQ.TAG];
        const result = req[i * REQ_WORDS + REQ.RESULT];
        if ((result & RESULT_CODE_MASK) === SubmitResult.OK) {
          this.inflight[tag] = cmd;
          submittedAny = true;
        } else {
          this.freeTags.push(tag);
          this.refused(cmd, result);
        }
      }
      let stop = false;
      if (done < batch) {
        for (let i = batch - 1; i >= done; i--) this.freeTags.push(req[i * REQ_WORDS + REQ.TAG]);
        const result = req[done * REQ_WORDS + REQ.RESULT] & RESULT_CODE_MASK;
        const children = req[done * REQ_WORDS + REQ.CHILDREN];
        const head = this.queue[done];
        this.queue.splice(0, done);
        if (result === SubmitResult.QUEUE_FULL) {
          // More child commands than the queue has trackers can never fit: waiting for
          // completions would wait forever. Submit it as parts that each fit.
          if (children <= this.qp.capacity) break;
          if (!this.splitHead(head, Math.ceil(children / Math.max(1, Math.floor(this.qp.capacity / 2))))) {
            this.queue.shift();
            head.done(new InvalidIoError(`${head.info.name}: needs ${children} commands but the queue holds ${this.qp.capacity}, and it cannot be split`), 0);
          }
          continue;
        }
        if (result === SubmitResult.NEED_LIST_PAGES && !this.host.addListPages(this.qp)) {
          // Pages held by commands in flight come back as they complete: wait for them.
          if (this.outstanding > 0) break;
          if (!this.splitHead(head, 2)) {
            this.queue.shift();
            this.refused(head, SubmitResult.REJECT | (RESULT_FIELD_MASK << RESULT_REASON_SHIFT));
          }
          continue;
        }
        stop = result === SubmitResult.QUEUE_FULL;
      } else {
        this.queue.splice(0, done);
      }
      if (stop) break;
    }
    if (submittedAny) this.host.activity();
  }

  /**
   * Replaces the head of the queue (`cmd`) by `parts` commands covering its blocks in
   * order; `cmd` settles when all of them have (the first error wins). Parts are cut at
   * block boundaries: a block boundary inside data the policy could place is one it can
   * place as well (PRP and SGL both allow a range to start at any dword and end anywhere).
   * A part that still does not fit is split again. Returns false when `cmd` cannot be split.
   */
  private splitHead(cmd: Command, parts: number): boolean {
    if (cmd.sqe || cmd.rawCdw || cmd.dataBytes !== 0 || cmd.blocks < 2) return false;
    const k = Math.min(Math.max(2, parts), cmd.blocks);
    const per = Math.ceil(cmd.blocks / k);
    const L = cmd.lbaSize;
    const subs: Command[] = [];
    let pending = 0;
    let first: Error | undefined;
    const settle = (err: Error | undefined): void => {
      first ??= err;
      if (--pending === 0) cmd.done(first, 0);
    };
    // A single pass over the phyr entries finds where each part's data starts.
    const p = cmd.phyr;
    let entry = cmd.phyrStart;
    let skip = cmd.phyrSkip;
    for (let b0 = 0; b0 < cmd.blocks; b0 += per) {
      const b1 = Math.min(cmd.blocks, b0 + per);
      const sub = newCommand(cmd.info, settle);
      sub.opcode = cmd.opcode;
      sub.nsid = cmd.nsid;
      sub.lba = cmd.lba + b0;
      sub.blocks = b1 - b0;
      sub.lbaSize = L;
      sub.cdw12Extra = cmd.cdw12Extra;
      sub.bucketHead = b0 === 0 ? cmd.bucketHead : 0;
      sub.bucketTail = b1 === cmd.blocks ? cmd.bucketTail : 0;
      const bytes = (b1 - b0) * L - sub.bucketHead - sub.bucketTail;
      const start = b0 === 0 ? 0 : b0 * L - cmd.bucketHead;
      if (p) {
        sub.phyr = p;
        sub.phyrStart = entry;
        sub.phyrSkip = skip;
        sub.partBytes = bytes;
        let left = bytes;
        let n = 0;
        while (left > 0 && entry < p.length) {
          const avail = p.lenAt(entry) - skip;
          n++;
          if (avail > left) {
            skip += left;
            left = 0;
          } else {
            left -= avail;
            skip = 0;
            entry++;
          }
        }
        sub.partEntries = Math.max(1, n);
      } else if (cmd.len > 0) {
        sub.addr = cmd.addr + start;
        sub.len = Math.min(bytes, cmd.len - start);
        sub.flags = cmd.flags;
      }
      subs.push(sub);
    }
    pending = subs.length;
    this.queue.splice(0, 1, ...subs);
    return true;
  }

  private writeSlot(slot: number, cmd: Command, tag: number, entry: number): number {
    const qp = this.qp;
    let count = 0;
    if (cmd.phyr && cmd.partBytes > 0) {
      const p = cmd.phyr;
      let i = cmd.phyrStart;
      let skip = cmd.phyrSkip;
      for (let left = cmd.partBytes; left > 0 && i < p.length; i++, skip = 0) {
        const len = Math.min(p.lenAt(i) - skip, left);
        qp.writeEntry(entry + count++, p.addrAt(i) + skip, len, p.flagsAt(i));
        left -= len;
      }
    } else if (cmd.phyr) {
      const p = cmd.phyr;
      count = p.length;
      for (let i = 0; i < count; i++) qp.writeEntry(entry + i, p.addrAt(i), p.lenAt(i), p.flagsAt(i));
    } else if (cmd.len > 0) {
      qp.writeEntry(entry, cmd.addr, cmd.len, cmd.flags);
      count = 1;
    }
    if (cmd.rawCdw) {
      qp.setRaw(slot, cmd.opcode, cmd.nsid, cmd.cdw10, cmd.cdw11, entry, count, cmd.dataBytes, tag);
    } else {
      qp.writeIo(slot, cmd.opcode, cmd.nsid, cmd.lba, cmd.blocks, cmd.lbaSize, entry, count, tag);
    }
    const w = slot * REQ_WORDS;
    qp.requests[w + REQ.CDW12_EXTRA] = cmd.cdw12Extra;
    qp.requests[w + REQ.BUCKET_HEAD] = cmd.bucketHead;
    qp.requests[w + REQ.BUCKET_TAIL] = cmd.bucketTail;
    return entry + count;
  }

  private submitAdmin(cmd: Command): 'ok' | 'full' | 'failed' {
    const tag = this.freeTags.pop() as number;
    let count = 0;
    if (cmd.phyr) {
      this.qp.ensureArena(cmd.phyr.length);
      for (let i = 0; i < cmd.phyr.length; i++) this.qp.setEntry(i, cmd.phyr.addrAt(i), cmd.phyr.lenAt(i), cmd.phyr.flagsAt(i));
      count = cmd.phyr.length;
    } else if (cmd.len > 0) {
      this.qp.setEntry(0, cmd.addr, cmd.len, cmd.flags);
      count = 1;
    }
    const cid = this.qp.submitRaw(cmd.sqe as Uint8Array, tag, 0, count, cmd.dataBytes || cmd.len || (cmd.phyr?.totalBytes() ?? 0));
    if (cid < 0) {
      this.freeTags.push(tag);
      if (cid === -1) return 'full';
      cmd.done(new DataPointerError('RejectAdminNotPrpable', 'admin data must be PRP-able (page-aligned ranges)'), 0);
      return 'failed';
    }
    this.inflight[tag] = cmd;
    return 'ok';
  }

  private refused(cmd: Command, result: number): void {
    const code = result & RESULT_CODE_MASK;
    const N = nvmeNative();
    const reason = N.reasons[(result >> RESULT_REASON_SHIFT) & RESULT_FIELD_MASK] ?? 'RejectNoListPages';
    const text = N.reasonTexts[(result >> RESULT_REASON_SHIFT) & RESULT_FIELD_MASK] ?? 'no DMA memory is left for PRP lists or SGL segments';
    // A read with Bit Buckets the policy cannot describe (e.g. it must be split at MDTS,
    // and buckets only fit one command) is read whole through a bounce buffer instead.
    const bucketsRefused = code === SubmitResult.REJECT && (cmd.bucketHead !== 0 || cmd.bucketTail !== 0);
    if ((code === SubmitResult.BOUNCE || bucketsRefused) && cmd.bounce && cmd.bounce(cmd)) {
      this.enqueue(cmd);
      return;
    }
    if (code === SubmitResult.INVALID) {
      cmd.done(new InvalidIoError(`${cmd.info.name}: ${N.dptrErrors[result >>> RESULT_ERROR_SHIFT] ?? 'invalid command'}`), 0);
      return;
    }
    cmd.done(new DataPointerError(reason, code === SubmitResult.BOUNCE ? `${text} (this buffer has no CPU view to bounce through)` : text), 0);
  }

  /** Reaps completions and settles their commands; returns how many settled. */
  poll(): number {
    if (this.qp.isClosed || this.outstanding === 0) return 0;
    const n = this.qp.reap();
    this.settle(n);
    if (this.queue.length > 0 && !this.flushScheduled) this.flush();
    return n;
  }

  private settle(n: number): void {
    const c = this.qp.completions;
    for (let i = 0; i < n; i++) {
      const w = i * CPL_WORDS;
      const tag = c[w + CPL.TAG];
      const sf = c[w + CPL.STATUS_FLAGS];
      const cmd = this.inflight[tag];
      if (!cmd) continue;
      this.inflight[tag] = undefined;
      this.freeTags.push(tag);
      if ((sf >>> CPL_FLAGS_SHIFT) & CPL_FLAG_CANCELLED) cmd.done(this.host.cancelledError(cmd), 0);
      else if ((sf & CPL_STATUS_MASK) !== 0) cmd.done(this.host.statusError(cmd, sf & CPL_STATUS_MASK), c[w + CPL.DW0]);
      else cmd.done(undefined, c[w + CPL.DW0]);
    }
  }

  /** After a controller reset: settles every in-flight command as cancelled and rewinds the rings. */
  cancelInflight(): void {
    if (this.qp.isClosed) return;
    for (;;) {
      const n = this.qp.native.cancelAll(CPL_STATUS_CANCELLED);
      this.settle(n);
      if (n < this.qp.completions.length / CPL_WORDS) break;
    }
  }

  /** Rejects every queued (not yet submitted) command with `err`. */
  rejectWaiting(err: (cmd: Command) => Error): void {
    const q = this.queue;
    this.queue = [];
    for (const cmd of q) cmd.done(err(cmd), 0);
  }
}
