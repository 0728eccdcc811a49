// Helpers of validate's raw cases: CMB discovery from CAP/CMBLOC/CMBSZ, CMB enabling, IOVA
// choice at the top of the accepted ranges, BAR reads/writes and byte comparison.
import t from 'tap';
import { NVME } from '../../spec/nvme';
import { read32, write32, write64 } from '../../lib/mmio';
import { barRegisters, cmbInfo, enableCmb, firstDifference, iovaAtTop, readBar, writeBar } from '../../tools/validate/suites/raw-io';

function bar0(cmbs: boolean, cmbloc: number, cmbsz: number): ArrayBuffer {
  const bar = new ArrayBuffer(0x2000);
  write64(bar, NVME.REG_CAP, cmbs ? 2 ** NVME.CAP_CMBS_SHIFT : 0);
  write32(bar, NVME.REG_CMBLOC, cmbloc);
  write32(bar, NVME.REG_CMBSZ, cmbsz);
  return bar;
}

t.test('CMB discovery', async (t) => {
  t.equal(await cmbInfo(barRegisters(bar0(false, 0, 0))), undefined, 'no CMB');
  t.equal(await cmbInfo(barRegisters(bar0(true, 0, 0))), undefined, 'CAP.CMBS but CMBSZ stays 0');
  // BAR 2, offset 1 unit, SZU 2 (1 MiB units), 16 units; SQS, RDS, WDS.
  const bar = bar0(true, 2 | (1 << NVME.CMBLOC_OFST_SHIFT), NVME.CMBSZ_SQS | NVME.CMBSZ_RDS | NVME.CMBSZ_WDS | (2 << NVME.CMBSZ_SZU_SHIFT) | (16 << NVME.CMBSZ_SZ_SHIFT));
  const regs = barRegisters(bar);
  t.same(await cmbInfo(regs), { bir: 2, offset: 1 << 20, size: 16 << 20, sqs: true, lists: false, rds: true, wds: true });
  t.equal(Number(read32(bar, NVME.REG_CMBMSC)), NVME.CMBMSC_CRE, 'CMBMSC.CRE set to read the registers');
  // A register file does not latch CMSE like a controller, but keeps what was written.
  t.equal(await enableCmb(regs, 0x4000_0000), undefined);
  t.equal(regs.reg64(NVME.REG_CMBMSC), 0x4000_0000 + NVME.CMBMSC_CMSE + NVME.CMBMSC_CRE);
  write32(bar, NVME.REG_CMBSTS, NVME.CMBSTS_CBAI);
  t.match(await enableCmb(regs, 0x1000), /CMBSTS\.CBAI: the controller rejected CBA 0x1000/);
});

t.test('IOVA at the top of the ranges', async (t) => {
  t.equal(iovaAtTop([{ start: 0x100000, end: 2 ** 48 - 1 }], 16 << 20), 2 ** 48 - (16 << 20));
  t.equal(iovaAtTop([{ start: 0, end: 0xfedfffff }, { start: 0x100000000, end: 0x7fffffffff }], 4096), 0x7ffffff000);
  t.equal(iovaAtTop([{ start: 0, end: 0x3fffff }, { start: 0x400000, end: 0x400fff }], 1 << 20), 0x300000, 'falls back to a range that fits');
  t.throws(() => iovaAtTop([{ start: 0, end: 0xfff }], 1 << 20), /no IOVA range holds/);
});

t.test('BAR byte access and comparison', async (t) => {
  const bar = new ArrayBuffer(8192);
  const data = new Uint8Array(64).map((_, i) => i * 3);
  writeBar(bar, 4096, data);
  t.same(readBar(bar, 4096, 64), data);
  t.equal(firstDifference(data, data.slice()), undefined);
  const other = data.slice();
  other[10] = 0xee;
  t.equal(firstDifference(other, data), 'first difference at byte 10: expected 0x1e, got 0xee');
  t.equal(firstDifference(data.subarray(0, 8), data), 'lengths differ (8 vs 64)');
});
