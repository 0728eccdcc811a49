// The controller a `phyr nvme` subcommand works on: the target opened, the admin commands
// it sends, and the output sink. One per invocation; close() releases the controller.
import { open } from '../../targets/open';
import { checkTarget } from '../../targets/check';
import { adminWithData, getLogPageSqe, identifySqe, type AdminDataResult, type Controller } from '../../drivers/nvme';
import { NVME } from '../../spec/nvme';
import { NvmeUsageError } from './args';

/** Where a subcommand writes: text lines, raw bytes (-o binary), diagnostics. */
export interface NvmeIo {
  out(text: string): void;
  bytes(data: Uint8Array): void;
  err(text: string): void;
}

/** The console (stdout, stderr). */
export const consoleIo: NvmeIo = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  bytes: (b) => process.stdout.write(b),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
};

/** An opened controller and the admin commands the subcommands need. */
export class NvmeDevice {
  private constructor(
    /** The target as given (the name nvme-cli would print as the device). */
    readonly name: string,
    readonly ctrl: Controller,
  ) {}

  /** Opens `target`; a malformed target is a usage error (exit 2), found before anything is opened. */
  static async open(target: string | undefined): Promise<NvmeDevice> {
    if (target === undefined) throw new NvmeUsageError('a device is required: emu[:key=value,...] or a PCI address bound to vfio-pci');
    checkTarget(target);
    return new NvmeDevice(target, await open(target));
  }

  admin(sqe: Uint8Array, bytes = 0, input?: Uint8Array): Promise<AdminDataResult> {
    return adminWithData(this.ctrl, sqe, bytes, input);
  }

  /** Identify (CNS, NSID): the 4096-byte data structure. */
  async identify(cns: number, nsid = 0): Promise<Uint8Array> {
    return (await this.admin(identifySqe(cns, nsid), NVME.IDENTIFY_DATA_SIZE)).data;
  }

  /** Get Log Page LID for NSID, `bytes` long. */
  async log(lid: number, nsid: number, bytes: number, o: { lsp?: number; rae?: boolean; offset?: number } = {}): Promise<Uint8Array> {
    return (await this.admin(getLogPageSqe(lid, nsid, bytes, o), bytes)).data;
  }

  close(): Promise<void> {
    return this.ctrl.close();
  }
}
