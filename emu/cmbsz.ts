// The cmbsz= target key: which CMB uses (CMBSZ bits 4:0, NVMe 1.4 §3.1.13) the embedded
// controller publishes and accepts. A use it does not publish is refused with Invalid Use of
// Controller Memory Buffer (§4.7).
import { NVME } from '../spec/nvme';
import { EmuTargetError } from './values';

/** The CMBSZ support bits by their names in the target string. */
export const CMBSZ_BITS: Readonly<Record<string, number>> = Object.freeze({
  sqs: NVME.CMBSZ_SQS,
  cqs: NVME.CMBSZ_CQS,
  lists: NVME.CMBSZ_LISTS,
  rds: NVME.CMBSZ_RDS,
  wds: NVME.CMBSZ_WDS,
});

/** The support bits published when cmbsz= is not given: SQS, LISTS, RDS, WDS (no CQs). */
export const CMBSZ_DEFAULT = NVME.CMBSZ_SQS | NVME.CMBSZ_LISTS | NVME.CMBSZ_RDS | NVME.CMBSZ_WDS;

/**
 * Parses `sqs+cqs+lists+rds+wds` (any subset, in any order) or `none` into CMBSZ bits.
 * Throws EmuTargetError on an unknown or repeated name.
 */
export function parseCmbsz(value: string): number {
  if (value === 'none') return 0;
  const names = Object.keys(CMBSZ_BITS).join(', ');
  let bits = 0;
  for (const name of value.split('+')) {
    const bit = Object.hasOwn(CMBSZ_BITS, name) ? CMBSZ_BITS[name] : undefined;
    if (bit === undefined) throw new EmuTargetError(`cmbsz=${value}: '${name}' is not a CMBSZ bit; give ${names} joined by '+', or none`, 'cmbsz');
    if (bits & bit) throw new EmuTargetError(`cmbsz=${value}: '${name}' is given twice`, 'cmbsz');
    bits |= bit;
  }
  return bits;
}

/** The target-string spelling of CMBSZ support bits (the inverse of parseCmbsz). */
export function formatCmbsz(bits: number): string {
  const names = Object.entries(CMBSZ_BITS)
    .filter(([, bit]) => bits & bit)
    .map(([name]) => name);
  return names.length ? names.join('+') : 'none';
}
