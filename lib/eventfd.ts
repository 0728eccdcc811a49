// eventfds: how interrupts reach the driver. MSI-X vectors are wired to eventfds (VFIO
// or the emulated controller); watchEventfd waits for one through libuv's poll, so an
// idle process uses no CPU and no extra thread. The native side validates every argument
// and refuses descriptors that are not eventfds of this process.
import { PhyrError } from './errors';
import { addonRoom } from './native';

/** A watch on one eventfd. */
export interface EventfdWatch {
  /** The watched descriptor. */
  readonly fd: number;
  /** True once close() ran. */
  readonly closed: boolean;
  /** Stops watching (the fd stays open; close it with closeFd). Idempotent. */
  close(): void;
  /** Keeps the process alive while watching (the default). */
  ref(): this;
  /** Lets the process exit even while watching. */
  unref(): this;
}

interface EventfdNative {
  createEventfd(): number;
  closeFd(fd: number): void;
  signal(fd: number, value?: number): void;
  Watcher: new (fd: number, onSignal: (count: number) => void) => EventfdWatch;
}

let cached: EventfdNative | undefined;
function native(): EventfdNative {
  if (!cached) cached = addonRoom<EventfdNative>('eventfd');
  return cached;
}

/** An eventfd-related call failed; `code` says how (see the message for what to do). */
export class EventfdError extends PhyrError {}

function wrap<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err instanceof PhyrError) throw err;
    const code = typeof err.code === 'string' && err.code.startsWith('PHYR_') ? err.code : 'PHYR_EVENTFD_BAD_ARGUMENT';
    throw new EventfdError(code, err.message);
  }
}

/** Creates a non-blocking, close-on-exec eventfd (counter 0) and returns its descriptor. */
export function createEventfd(): number {
  return wrap(() => native().createEventfd());
}

/** Closes an eventfd. Refuses other descriptors and fds that are being watched. */
export function closeFd(fd: number): void {
  wrap(() => native().closeFd(fd));
}

/** Adds `value` (default 1) to an eventfd's counter, as a device does on an interrupt. */
export function signalEventfd(fd: number, value = 1): void {
  wrap(() => native().signal(fd, value));
}

/**
 * Calls `onSignal(count)` whenever the eventfd is signalled; `count` is the number of
 * signals since the last call (reading resets the counter). A throwing callback becomes
 * an uncaught exception. The watch keeps the process alive until close() or unref().
 */
export function watchEventfd(fd: number, onSignal: (count: number) => void): EventfdWatch {
  if (typeof onSignal !== 'function') throw new EventfdError('PHYR_EVENTFD_BAD_ARGUMENT', 'onSignal must be a function');
  const Watcher = native().Watcher;
  return wrap(() => new Watcher(fd, onSignal));
}
