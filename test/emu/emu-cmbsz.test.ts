// The cmbsz= key: the CMBSZ support bits the embedded controller publishes (NVMe 1.4
// §3.1.13) and enforces — a CMB use whose bit is clear is Invalid Use of Controller Memory
// Buffer (§4.7).
import t from 'tap';
import * as phyr from '../../index';
import { CMBSZ_DEFAULT, formatCmbsz, parseCmbsz } from '../../emu/cmbsz';
import { EmuTargetError, parseEmuTarget } from '../../emu/target';
import { NVME } from '../../spec/nvme';

const ALL = NVME.CMBSZ_SQS | NVME.CMBSZ_CQS | NVME.CMBSZ_LISTS | NVME.CMBSZ_RDS | NVME.CMBSZ_WDS;

t.test('cmbsz= parses any subset of the five bits, in any order, or none', async (t) => {
  t.equal(parseEmuTarget('emu:cmb=1M').cmbSupport, CMBSZ_DEFAULT, 'default: SQS, LISTS, RDS, WDS');
  t.equal(CMBSZ_DEFAULT, NVME.CMBSZ_SQS | NVME.CMBSZ_LISTS | NVME.CMBSZ_RDS | NVME.CMBSZ_WDS);
  t.equal(parseEmuTarget('emu:cmb=1M,cmbsz=wds+sqs+cqs+rds+lists').cmbSupport, ALL);
  t.equal(parseEmuTarget('emu:cmb=1M,cmbsz=none').cmbSupport, 0);
  t.equal(parseEmuTarget('emu:cmb=1M,cmbsz=cqs').cmbSupport, NVME.CMBSZ_CQS);
  for (let bits = 0; bits <= ALL; bits++) t.equal(parseCmbsz(formatCmbsz(bits)), bits, `${formatCmbsz(bits)} round-trips`);
});

t.test('bad cmbsz= values are refused naming the key and what to give', async (t) => {
  for (const [v, why] of [
    ['', /'' is not a CMBSZ bit; give sqs, cqs, lists, rds, wds joined by '\+', or none/],
    ['sqs+', /'' is not a CMBSZ bit/],
    ['SQS', /'SQS' is not a CMBSZ bit/],
    ['sqs+foo', /'foo' is not a CMBSZ bit/],
    ['sqs+sqs', /'sqs' is given twice/],
    ['none+sqs', /'none' is not a CMBSZ bit/],
    ['0x1f', /'0x1f' is not a CMBSZ bit/],
  ] as const) {
    t.throws(() => parseEmuTarget(`emu:cmb=1M,cmbsz=${v}`), { name: EmuTargetError.name, key: 'cmbsz', message: why }, `cmbsz=${v}`);
  }
  t.throws(() => parseEmuTarget('emu:cmbsz=sqs'), { key: 'cmbsz', message: /cmbsz= needs a CMB: give cmb=SIZE too/ });
});

/** CMBSZ as the controller publishes it once CMBMSC.CRE is set. */
async function publishedCmbsz(target: string): Promise<number> {
  const ctrl = await phyr.open(target);
  try {
    const cmb = await ctrl.enableCmb().catch(() => undefined);
    if (cmb) return (cmb.readData ? NVME.CMBSZ_RDS : 0) | (cmb.writeData ? NVME.CMBSZ_WDS : 0);
    return -1;
  } finally {
    await ctrl.close();
  }
}

t.test('the controller publishes the bits and refuses the data uses it does not support', async (t) => {
  t.equal(await publishedCmbsz('emu:backend=ram,size=16M,cmb=1M,cmbsz=rds'), NVME.CMBSZ_RDS);
  t.equal(await publishedCmbsz('emu:backend=ram,size=16M,cmb=1M,cmbsz=wds+sqs'), NVME.CMBSZ_WDS);
  t.equal(await publishedCmbsz('emu:backend=ram,size=16M,cmb=1M,cmbsz=sqs+cqs+lists'), -1, 'the driver refuses a CMB without RDS or WDS');
  const ctrl = await phyr.open('emu:backend=ram,size=16M,cmb=1M,cmbsz=wds');
  t.teardown(() => ctrl.close());
  const cmb = await ctrl.enableCmb();
  t.match(cmb, { readData: false, writeData: true });
  const ns = ctrl.namespace(1);
  await ns.write(8, cmb.slice(0, 4096));
  const err = await ns.read(8, cmb.slice(4096, 4096)).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.match(err, { sct: NVME.SCT_GENERIC, sc: NVME.SC_INVALID_CMB_USE }, 'a Read into a CMB without RDS: Invalid Use of Controller Memory Buffer');
});
