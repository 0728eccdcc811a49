// Self-test of phyr validate, first half: a correct embedded controller passes every suite
// (destructive included) with 0 fail in each configuration it supports, and every case
// either runs or says why it cannot apply. The cases derive what they expect from what
// the controller reports (MDTS, queues granted, SGLS, CMB, LBA size...), so a legal but
// unusual configuration is no failure. The second half (a fault per case) is in
// validate-selftest-faults*.test.ts.
import t from 'tap';
import { validateEmu, validateEmuRefused } from '../helpers/validate-emu';
import { expectNoFail } from '../helpers/validate-selftest';

/** Configurations of the embedded controller (docs/EMULATOR.md keys), small and fast. */
const CONFIGS = [
  'emu:size=16M,mdts=1,queues=1',
  'emu:size=16M,queues=1,lbads=12',
  'emu:size=16M,queues=256',
  'emu:size=16M,lbads=12,mdts=1',
  'emu:size=16M,sgl=on',
  'emu:size=16M,sgl=dword,lbads=12',
  'emu:size=16M,sgl=on,mdts=1,queues=1',
  'emu:size=16M,cmb=1M',
  'emu:size=16M,cmb=2M,mdts=1,queues=1,sgl=on',
  // The CMBSZ extremes with every suite (all 32 combinations of the CMB cases alone:
  // validate-selftest-cmbsz.test.ts).
  'emu:size=16M,cmb=1M,cmbsz=none,mdts=1,queues=1',
  'emu:size=16M,cmb=1M,cmbsz=sqs+cqs+lists+rds+wds,sgl=on',
  'emu:size=16M,ns=4,lbads=12',
  'emu:size=16M,ns=2,mdts=1,queues=1',
  'emu:size=16M,vectors=1',
  'emu:size=16M,mdts=1,queues=1,vectors=1',
];

for (const target of CONFIGS) t.test(`0 fail on ${target}`, (t) => expectNoFail(t, target));

t.test('the false alarms of one IO queue pair and an 8 KiB MDTS are gone', async (t) => {
  const r = await validateEmu(['emu:size=16M,mdts=1,queues=1', '--destructive', '--yes']);
  const outcome = (id: string): string | undefined => r.report.cases.find((c) => c.id === id)?.outcome.status;
  for (const id of ['admin.features.number-of-queues', 'dptr.prp.list-entry-not-page-aligned', 'dptr.prp.list-chaining', 'dptr.iommu.prp-list-unmapped', 'errors.driver.lba-past-end', 'errors.driver.lba-crosses-end', 'errors.driver.invalid-namespace', 'errors.driver.invalid-opcode']) {
    t.equal(outcome(id), 'pass', `${id} passes`);
  }
  const noq = r.report.cases.find((c) => c.id === 'admin.features.number-of-queues')?.outcome;
  t.match(noq, { detail: /1 SQ\(s\) and 1 CQ\(s\) allocated of 2 requested/ });
  const drv = r.report.cases.find((c) => c.id === 'errors.driver.invalid-opcode')?.outcome;
  t.match(drv, { detail: /only IO queue pair the controller granted/ });
  t.equal(outcome('integrity.multi-queue'), 'not-applicable', 'several queues writing at once cannot apply to one queue pair');
});

t.test('--nsid of a namespace the controller lacks is a usage error naming the ones it has', async (t) => {
  const one = await validateEmuRefused(['emu:size=16M', '--nsid', '99']);
  t.equal(one.code, 2);
  t.match(one.out, /--nsid 99: namespace 99 is not active .*give the active namespace\(s\): 1 \(see phyr identify/);
  t.notMatch(one.out, /\[ *1\//, 'no case ran');
  const three = await validateEmuRefused(['emu:size=16M,ns=3', '--nsid', '4']);
  t.equal(three.code, 2);
  t.match(three.out, /active namespace\(s\): 1, 2, 3 /);
});
