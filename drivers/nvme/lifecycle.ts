// Where a controller is in its life, shared by the parts that move it (bring-up, recovery,
// close) and read by those that refuse work because of it. One object, so that every part
// sees the same state without reaching into the Controller.
import { ControllerClosedError, ControllerFatalError, ControllerResettingError } from './errors';

/** 'failed': given up (device gone or recovery exhausted); `failure` says why. */
export type LifeState = 'live' | 'resetting' | 'closed' | 'failed';

/** The state of one controller. */
export class Lifecycle {
  state: LifeState = 'live';
  /** Why the controller failed (state 'failed'). */
  failure: Error | undefined;
  /** The running reset, if one runs. */
  resetting: Promise<void> | undefined;
  /** Set once close() was called (settles when the controller is closed). */
  closing: Promise<void> | undefined;

  /** True once close() was called or the controller was closed. */
  get stopping(): boolean {
    return this.state === 'closed' || this.closing !== undefined;
  }

  /** Throws the typed error that says why no command can be submitted now. */
  checkUsable(what: string): void {
    if (this.state === 'live' && !this.closing) return;
    if (this.stopping) throw new ControllerClosedError(what);
    if (this.state === 'resetting') throw new ControllerResettingError(what);
    throw this.failure ?? new ControllerFatalError('the controller failed');
  }
}
