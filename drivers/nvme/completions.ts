// How completions reach the driver's promises: a poller that yields to the event loop
// (setImmediate) while commands are in flight, MSI-X vectors watched through eventfds,
// and the keep-alive that makes a pending command hold the process as a pending fs
// operation does. The native queue pairs do the reaping; this decides when it runs.
import { watchEventfd, type EventfdWatch } from '../../lib/eventfd';
import { InvalidIoError } from './errors';
import type { Lifecycle } from './lifecycle';
import type { QueueRuntime, QueueSet } from './queues';
import { msixVectorCount, type ConfigSpace } from './registers';

/** Controllers with commands pending: held strongly so none is collected mid-IO. */
const busyControllers = new Set<object>();

/**
 * The controller's one timer (timeouts and the CSTS watch: at most one wake-up per second
 * with the default timeout). It is unref'd while nothing is pending, so an idle
 * controller never keeps the process alive, and ref'd (the controller held strongly)
 * from the first submission until a tick finds every queue idle: toggled at most once
 * per tick, never per command.
 */
export class KeepAlive {
  private timer: NodeJS.Timeout | undefined;
  private isHeld = false;

  constructor(private readonly owner: object) {}

  /**
   * Starts the timer; `onTick` must not refer to the owner strongly (a WeakRef), or an
   * unclosed controller would never be collected.
   */
  start(tickMs: number, onTick: () => void): NodeJS.Timeout {
    this.timer = setInterval(onTick, tickMs);
    this.timer.unref();
    return this.timer;
  }

  /** True once the timer runs (bring-up finished), until stop(). */
  get running(): boolean {
    return this.timer !== undefined;
  }

  get held(): boolean {
    return this.isHeld;
  }

  hold(): void {
    if (!this.timer) return;
    this.isHeld = true;
    this.timer.ref();
    busyControllers.add(this.owner);
  }

  release(): void {
    this.isHeld = false;
    this.timer?.unref();
    busyControllers.delete(this.owner);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.release();
  }
}

/** MSI-X vectors as eventfds, and their watches. */
export class Interrupts {
  private fds: number[] = [];

  /** `watches` is shared with what releases an unclosed controller (leftovers.ts). */
  constructor(private readonly watches: EventfdWatch[]) {}

  /** True once enable() gave vectors. */
  get enabled(): boolean {
    return this.fds.length > 0;
  }

  /** Enables up to 17 vectors: one for the admin queue, up to 16 shared by IO queues. */
  enable(fn: ConfigSpace & { enableMsix(count: number): number[] }): void {
    const offered = msixVectorCount(fn);
    if (offered === 0) throw new InvalidIoError("the function has no MSI-X capability: open it with { completion: 'poll' }");
    this.fds = fn.enableMsix(Math.min(offered, 17));
  }

  /** The vector of IO queue `qid`: vector 0 is the admin queue's unless it is the only one. */
  vectorFor(qid: number): number {
    return this.fds.length > 1 ? 1 + ((qid - 1) % (this.fds.length - 1)) : 0;
  }

  /**
   * Watches the vector of `r` once (queues share vectors). `onVector` must not refer to
   * the controller strongly: the watch lives as long as the eventfd does.
   */
  watch(r: QueueRuntime, onVector: (vector: number) => void): void {
    if (r.vector < 0 || this.fds.length === 0) return;
    const fd = this.fds[r.vector];
    if (this.watches.some((w) => w.fd === fd && !w.closed)) return;
    this.watches.push(watchVector(fd, r.vector, onVector));
  }

  close(): void {
    for (const w of this.watches) w.close();
  }
}

// Apart from the class so that the watch's callback holds nothing but what it names.
function watchVector(fd: number, vector: number, onVector: (vector: number) => void): EventfdWatch {
  return watchEventfd(fd, () => onVector(vector));
}

/** What the poller needs from its controller. */
export interface PollerHost {
  readonly queues: Pick<QueueSet, 'admin' | 'io' | 'all'>;
  readonly life: Pick<Lifecycle, 'state' | 'closing'>;
  /** The CSTS watch; false when it started a reset or declared the controller dead. */
  checkHealth(): boolean;
}

/** Reaps the driver's own queues (admin, namespace API) when completions are polled. */
export class Poller {
  private scheduled = false;
  private ticks = 0;

  /** `auto`: the namespace queue is polled too (OpenOptions.poller 'auto' in polled mode). */
  constructor(
    private readonly host: PollerHost,
    private readonly keepAlive: KeepAlive,
    private readonly auto: boolean,
  ) {}

  /** A command was submitted (DispatcherHost.activity). */
  activity(): void {
    if (!this.keepAlive.held && this.host.life.state !== 'closed') this.keepAlive.hold();
    if ((this.auto || this.internalPolling()) && !this.scheduled) {
      // Bring-up, reset and close poll for their own admin commands in every mode.
      this.scheduled = true;
      setImmediate(() => this.tick());
    }
  }

  /** True while a command of the driver's queues is in flight or waiting. */
  pending(): boolean {
    const { admin, io } = this.host.queues;
    for (const r of [admin, io]) if (r?.disp && !r.qp.isClosed && (r.disp.outstanding > 0 || r.disp.waiting > 0)) return true;
    return false;
  }

  private internalPolling(): boolean {
    const { life } = this.host;
    return !this.keepAlive.running || life.state !== 'live' || life.closing !== undefined;
  }

  private tick(): void {
    this.scheduled = false;
    let busy = false;
    const { admin, io } = this.host.queues;
    const queues = this.auto ? [admin, io] : [admin];
    for (const r of queues) {
      if (!r?.disp || r.qp.isClosed) continue;
      r.disp.poll();
      busy ||= r.disp.outstanding > 0 || r.disp.waiting > 0;
    }
    if (!this.auto && !this.internalPolling()) busy = false;
    // Watch CSTS every 256 polls: a fatal controller never completes anything.
    if (busy && (++this.ticks & 255) === 0 && !this.host.checkHealth()) return;
    if (busy) {
      this.scheduled = true;
      setImmediate(() => this.tick());
    }
  }

  /** Reaps completions of the driver's queues now; returns how many commands settled. */
  poll(): number {
    let n = 0;
    const { admin, io } = this.host.queues;
    for (const r of [admin, io]) if (r?.disp && !r.qp.isClosed) n += r.disp.poll();
    return n;
  }

  /** MSI-X vector `vector` fired: reap every queue on it. */
  onVector(vector: number): void {
    for (const q of this.host.queues.all()) {
      if (q.vector !== vector || q.qp.isClosed) continue;
      if (q.disp) q.disp.poll();
      else q.qp.onInterrupt?.();
    }
  }
}
