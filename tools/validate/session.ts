// Opening a device for a validate run. A session owns the PCI function for the whole run
// and hands each case what it needs: raw queues for conformance cases, a driver Controller
// for validate's own cases (see runner.ts CaseEnvironment).
import { PhyrError } from '../../lib/errors';
import type { CaseEnvironment } from './runner';
import type { PlatformInfo } from './types';

/** A device opened for a run. */
export interface ValidateSession extends CaseEnvironment {
  readonly platform: PlatformInfo;
  /** Releases the device (idempotent). */
  close(): Promise<void>;
}

/** How a session is opened. */
export interface SessionOptions {
  nsid: number;
}

/** Opens `target` for validation. */
export async function openSession(target: string, _options: SessionOptions): Promise<ValidateSession> {
  throw new PhyrError(
    'PHYR_VALIDATE_UNAVAILABLE',
    `cannot validate ${target}: running cases on a device needs the raw queues (conformance/raw-queue.ts) and the driver (drivers/nvme), which this build does not contain; \`phyr validate --list\` works without them`,
  );
}
