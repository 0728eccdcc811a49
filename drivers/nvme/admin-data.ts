// Admin commands that move data (Identify, Get Log Page, Get / Set Features with a data
// buffer, passthru): SQE builders for the ones the CLI sends, and one helper that runs a
// command through a pool buffer and hands back the bytes.
import type { DmaPool, DmaBuffer } from '../../lib/dma';
import { NVME } from '../../spec/nvme';
import { adminSqe } from './admin';

/** What runs an admin command (the Controller). */
export interface AdminRunner {
  readonly pool: DmaPool;
  adminCommand(sqe: Uint8Array, data?: Pick<DmaBuffer, 'iova' | 'size'>, bytes?: number): Promise<number>;
}

/**
 * Get Log Page (NVMe 1.4 §5.14): LID 7:0, LSP 11:8, RAE 15 and NUMDL 31:16 in CDW10, NUMDU
 * in CDW11 15:0 (a 0's based dword count), the byte offset in CDW12 / CDW13.
 */
export function getLogPageSqe(lid: number, nsid: number, bytes: number, o: { lsp?: number; rae?: boolean; offset?: number } = {}): Uint8Array {
  if (!Number.isInteger(bytes) || bytes < 4 || bytes % 4 !== 0) throw new RangeError(`a log page transfer is a positive multiple of 4 bytes, got ${bytes}`);
  const numd = bytes / 4 - 1;
  const offset = o.offset ?? 0;
  return adminSqe(NVME.ADMIN_GET_LOG_PAGE, {
    nsid,
    cdw10: ((lid & 0xff) | ((o.lsp ?? 0) & 0xf) << 8 | (o.rae ? 1 << 15 : 0) | (numd & 0xffff) << 16) >>> 0,
    cdw11: (numd >>> 16) & 0xffff,
    cdw12: offset % 2 ** 32,
    cdw13: Math.floor(offset / 2 ** 32),
  });
}

/** Get Features (NVMe 1.4 §5.13): FID 7:0 and SEL 10:8 in CDW10, feature-specific CDW11. */
export function getFeaturesSqe(fid: number, sel: number, nsid: number, cdw11 = 0): Uint8Array {
  return adminSqe(NVME.ADMIN_GET_FEATURES, { nsid, cdw10: (fid & 0xff) | (sel & 0x7) << 8, cdw11 });
}

/** Set Features (§5.21): FID 7:0 and SV 31 in CDW10, the value in CDW11 (and CDW12). */
export function setFeaturesSqe(fid: number, value: number, nsid: number, save: boolean, cdw12 = 0): Uint8Array {
  return adminSqe(NVME.ADMIN_SET_FEATURES, { nsid, cdw10: ((fid & 0xff) | (save ? 1 << 31 : 0)) >>> 0, cdw11: value >>> 0, cdw12 });
}

/** Format NVM (§5.23): LBAF 3:0, MSET 4, PI 7:5, PIL 8, SES 11:9 in CDW10. */
export function formatNvmSqe(nsid: number, f: { lbaf: number; ms?: number; pi?: number; pil?: number; ses?: number }): Uint8Array {
  const cdw10 = (f.lbaf & 0xf) | ((f.ms ?? 0) & 1) << 4 | ((f.pi ?? 0) & 7) << 5 | ((f.pil ?? 0) & 1) << 8 | ((f.ses ?? 0) & 7) << 9;
  return adminSqe(NVME.ADMIN_FORMAT_NVM, { nsid, cdw10 });
}

/** The completion's DW0 and the data the command read (or `input` as sent). */
export interface AdminDataResult {
  dw0: number;
  data: Uint8Array;
}

/**
 * Runs `sqe` with a `bytes`-long pool buffer as its data (copied from `input` first when the
 * command sends data); resolves with DW0 and a copy of the buffer. `bytes` 0: no data.
 */
export async function adminWithData(ctrl: AdminRunner, sqe: Uint8Array, bytes: number, input?: Uint8Array): Promise<AdminDataResult> {
  if (bytes === 0) return { dw0: await ctrl.adminCommand(sqe), data: new Uint8Array(0) };
  const buf = ctrl.pool.alloc(bytes);
  try {
    if (input) buf.bytes.set(input.subarray(0, bytes));
    const dw0 = await ctrl.adminCommand(sqe, buf, bytes);
    return { dw0, data: new Uint8Array(buf.bytes) };
  } finally {
    buf.free();
  }
}
