// A deliberately wrong controller makes the matching cases fail, with the detail a person
// needs: the embedded controller with injected wrong statuses, and with its media corrupted
// underneath it (the file backend modified behind the controller's back).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import t from 'tap';
import { validateEmu } from '../helpers/validate-emu';
import type { CaseResult } from '../../tools/validate/types';

const byId = (cases: CaseResult[], id: string) => cases.find((c) => c.id === id)!;

t.test('every Read answered with Invalid Field: the status checks fail and say so', async (t) => {
  const r = await validateEmu(['emu:backend=ram,size=16M,faults=fail:nth=1:op=read:status=0x4002', '--suite', 'dptr,errors', '--case', 'dptr.lba.out-of-range,errors.driver.lba-past-end,errors.driver.invalid-namespace']);
  t.equal(r.code, 1, 'exit status 1');
  const raw = byId(r.report.cases, 'dptr.lba.out-of-range');
  t.match(raw.outcome, { status: 'fail', expected: /0x4080/, received: /0x4002/, sent: /opcode=0x2/ }, 'raw case: sent, expected, received');
  const drv = byId(r.report.cases, 'errors.driver.lba-past-end');
  t.match(drv.outcome, { status: 'fail', sent: /^Read nsid=1 slba=\d+ blocks=1 on IO queue \d+$/, expected: /^LBA Out of Range \(SCT 0, SC 80h\): the range starts beyond NSZE$/, received: /^0x4002 Invalid Field in Command \(SCT 0, SC 02h, DNR\)$/ });
  t.equal(byId(r.report.cases, 'errors.driver.invalid-namespace').outcome.status, 'fail');
  t.match(r.out, /FAIL +errors\.driver\.lba-past-end[\s\S]*expected: LBA Out of Range[\s\S]*received: 0x4002 Invalid Field in Command/);
  t.match(r.junit, /<failure message="expected LBA Out of Range/);
});

t.test('an unrecovered read error on one LBA fails the integrity case naming the command', async (t) => {
  const r = await validateEmu(['emu:backend=ram,size=16M,faults=fail:lba=0:status=0x4281', '--case', 'integrity.sequential', '--destructive', '--yes']);
  t.equal(r.code, 1);
  t.match(byId(r.report.cases, 'integrity.sequential').outcome, { status: 'fail', sent: /^Write nsid=1 slba=0 /, received: /Unrecovered Read Error|SC 0x81/ });
});

t.test('corrupted media: integrity finds the block, the damage and the first bad byte', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-validate-media-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'ns1.img');
  // The file is the controller's medium: a second writer keeps stamping four bytes into
  // LBA 0's payload (byte 300), the way a failing flash page returns wrong data.
  const run = validateEmu([`emu:backend=file:${file},size=16M`, '--case', 'integrity.sequential', '--destructive', '--yes']);
  const fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w+');
  const rot = setInterval(() => fs.writeSync(fd, Buffer.from([0xde, 0xad, 0xbe, 0xef]), 0, 4, 300), 1);
  try {
    const r = await run;
    t.equal(r.code, 1);
    const o = byId(r.report.cases, 'integrity.sequential').outcome;
    // The first differing byte is one of the four stamped (300-303): the seeded pattern
    // byte at 300 can itself be 0xde (1 run in 256), and then 301 is the first to differ.
    t.match(o, { status: 'fail', expected: /every block to read back exactly as written/, received: /1 of \d+ block\(s\) differ \(corrupt\); first: LBA 0: corrupted: CRC mismatch .* first differing byte at offset 30[0-3] /, detail: /^seed \d+/ });
  } finally {
    clearInterval(rot);
    fs.closeSync(fd);
  }
});

t.test('a dropped completion: the case times out, the device is recovered, the run goes on', async (t) => {
  const r = await validateEmu(['emu:backend=ram,size=16M,faults=drop:nth=1:op=read', '--timeout', '3', '--case', 'errors.driver.lba-past-end,registers.cap.fields']);
  t.equal(r.code, 1);
  const c = byId(r.report.cases, 'errors.driver.lba-past-end');
  t.match(c.outcome, { status: 'fail' });
  t.equal(byId(r.report.cases, 'registers.cap.fields').outcome.status, 'pass', 'the next case still runs and passes');
});

t.test('--seed replays the integrity suite: the cases use and log the seed given', async (t) => {
  const runs = [];
  for (let i = 0; i < 2; i++) runs.push(await validateEmu(['emu:backend=ram,size=16M', '--case', 'integrity.random,integrity.sequential', '--destructive', '--yes', '--seed', '77']));
  for (const r of runs) {
    t.equal(r.code, 0, 'exit status 0');
    for (const id of ['integrity.random', 'integrity.sequential']) t.match(JSON.stringify(byId(r.report.cases, id)), /seed 77,/, `${id} logs the seed given`);
  }
  // The same seed gives the same random writes: the case's detail (distinct blocks written) repeats.
  t.same(byId(runs[0].report.cases, 'integrity.random').outcome, byId(runs[1].report.cases, 'integrity.random').outcome);
});
