// `phyr nvme` on the embedded controller: nvme-cli's subcommands end to end (exit status,
// output), the confirmation destructive ones need, usage errors, and SMART counters that
// count what the host did.
import t from 'tap';
import { writeFileSync, rmSync } from 'node:fs';
import { runNvme } from '../../tools/nvme/run';
import { open } from '../../targets/open';
import { adminWithData, getLogPageSqe } from '../../drivers/nvme';
import { smartLogJson } from '../../tools/nvme/structures/smart-log';
import { NVME } from '../../spec/nvme';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const bytes: Uint8Array[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s), bytes: (b: Uint8Array) => bytes.push(b) }, out, err, bytes };
}

async function nvme(...argv: string[]) {
  const c = capture();
  const code = await runNvme(argv, c.io);
  return { code, out: c.out.join('\n'), err: c.err.join('\n'), bytes: c.bytes };
}

t.test('identify subcommands: JSON parses, the embedded values come through, binary is the raw structure', async (t) => {
  const ctrl = await nvme('id-ctrl', 'emu:serial=NVCLI1', '-o', 'json');
  t.equal(ctrl.code, 0, ctrl.err);
  const j = JSON.parse(ctrl.out);
  t.equal(j.sn, 'NVCLI1'.padEnd(20, ' '));
  t.equal(j.nn, 1);
  t.equal(j.fguid, '00000000-0000-0000-0000-000000000000');
  const ns = await nvme('id-ns', 'emu:size=1M,lbads=12', '--namespace-id=1', '--output-format', 'json');
  t.equal(ns.code, 0, ns.err);
  t.equal(JSON.parse(ns.out).nsze, 256);
  t.equal(JSON.parse(ns.out).flbas, 1);
  const bin = await nvme('id-ctrl', 'emu', '-b');
  t.equal(bin.bytes[0].length, 4096);
  const list = await nvme('list-ns', 'emu:ns=3', '-o', 'json');
  t.same(JSON.parse(list.out), { nsid_list: [{ nsid: 1 }, { nsid: 2 }, { nsid: 3 }] });
  const from2 = await nvme('list-ns', 'emu:ns=3', '-n', '2');
  t.equal(from2.out, '[   0]:0x2\n[   1]:0x3');
  const descs = await nvme('ns-descs', 'emu', '-n1', '-o', 'json');
  t.same(JSON.parse(descs.out)['ns-descs'].map((d: { type: string }) => d.type), ['eui64', 'uuid']);
  const text = await nvme('id-ctrl', 'emu');
  t.match(text.out, /^NVME Identify Controller:\nvid       : 0x1234\n/);
});

t.test('log pages and features', async (t) => {
  const smart = await nvme('smart-log', 'emu', '-o', 'json');
  t.equal(smart.code, 0, smart.err);
  t.equal(JSON.parse(smart.out).temperature, 308);
  const human = await nvme('smart-log', 'emu', '-H', '-o', 'json');
  t.equal(JSON.parse(human.out).critical_warning.value, 0);
  const errs = await nvme('error-log', 'emu', '-e', '100', '-o', 'json');
  t.equal(JSON.parse(errs.out).errors.length, 64, 'at most ELPE + 1 entries');
  const errText = await nvme('error-log', 'emu', '-e', '1');
  t.match(errText.out, /^Error Log Entries for device:emu entries:1\n\.{17}\n Entry\[ 0\]   \n[\s\S]*status_field\t: 0\(Successful Completion\)\n[\s\S]*trtype\t\t: 0\ncs\t\t: 0\n/);
  const fw = await nvme('fw-log', 'emu', '-o', 'json');
  t.equal(JSON.parse(fw.out).emu['Active Firmware Slot (afi)'], 1);
  const raw = await nvme('get-log', 'emu', '-i', '2', '-l', '512', '-b');
  t.equal(raw.bytes[0].length, 512);
  const dump = await nvme('get-log', 'emu', '--log-id=3', '--log-len=16');
  t.match(dump.out, /^Device:emu log-id:3 namespace-id:0xffffffff\n {5} {2}0 {2}1/);
  const all = await nvme('get-feature', 'emu');
  t.equal(all.code, 0, all.err);
  t.equal(all.out.split('\n').length, 8, 'the eight features the embedded controller implements');
  t.match(all.out, /get-feature:0x07 \(Number of Queues\), Current value:0x/);
  const one = await nvme('get-feature', 'emu', '-f', '0x99');
  t.equal(one.code, 1);
  t.match(one.err, /Invalid Field/);
  const set = await nvme('set-feature', 'emu', '-f', '8', '-v', '0x101', '--force');
  t.equal(set.code, 0, set.err);
  t.equal(set.out, 'set-feature:0x08 (Interrupt Coalescing), value:0x00000101, cdw12:00000000, save:0');
});

t.test('destructive subcommands refuse without --force; with it they run', async (t) => {
  for (const argv of [['format', 'emu', '-l', '1'], ['write-zeroes', 'emu', '-n', '1'], ['dsm', 'emu', '-n', '1', '-d', '-s', '0', '-b', '8'], ['set-feature', 'emu', '-f', '8', '-v', '1'], ['admin-passthru', 'emu', '-o', '0x80']]) {
    const r = await nvme(...argv);
    t.equal(r.code, 2, `${argv[0]} refused`);
    t.match(r.err, /add --force to confirm/);
  }
  const f = await nvme('format', 'emu:size=1M', '-l', '1', '--force');
  t.equal(f.code, 0, f.err);
  t.equal(f.out, 'Success formatting namespace:ffffffff');
  const bs = await nvme('format', 'emu:size=1M', '--block-size=4096', '--force');
  t.equal(bs.code, 0, bs.err);
  const nobs = await nvme('format', 'emu:size=1M', '--block-size=2048', '--force');
  t.equal(nobs.code, 2);
  t.match(nobs.err, /block size 2048 not found/);
  const wz = await nvme('write-zeroes', 'emu', '-n', '1', '-s', '8', '-c', '7', '--force');
  t.equal(wz.out, 'NVME Write Zeroes Success', wz.err);
  t.equal((await nvme('dsm', 'emu', '-n', '1', '--ad', '--slbs=0,64', '--blocks=8,8', '--force')).out, 'NVMe DSM: success');
  t.equal((await nvme('flush', 'emu')).out, 'NVMe Flush: success');
  t.equal((await nvme('reset', 'emu')).code, 0);
  const id = await nvme('admin-passthru', 'emu', '--opcode=0x06', '--cdw10=1', '--data-len=4096', '-r', '-b');
  t.equal(id.code, 0, id.err);
  t.equal(id.bytes[0].length, 4096);
  t.match(id.err, /Admin Command Identify is Success and result: 0x00000000/);
  t.equal((await nvme('admin-passthru', 'emu', '-o', '0x01', '--force')).code, 2, 'queue management belongs to the driver');
  const file = `/tmp/nvmecli-passthru-${process.pid}.bin`;
  writeFileSync(file, Buffer.alloc(8));
  t.teardown(() => rmSync(file, { force: true }));
  t.equal((await nvme('admin-passthru', 'emu', '-o', '0x06', '-l', '16', '-w')).code, 2, 'write without an input file');
});

t.test('show-regs: nvme-cli keys; CSTS.RDY set on a live controller', async (t) => {
  const r = await nvme('show-regs', 'emu', '-o', 'json');
  t.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  t.same(Object.keys(j), 'cap vs intms intmc cc csts nssr crto aqa asq acq cmbloc cmbsz bpinfo bprsel bpmbl cmbmsc cmbsts pmrcap pmrctl pmrsts pmrebs pmrswtp pmrmscl pmrmscu'.split(' '));
  t.equal(j.csts & 1, 1);
  t.equal(j.vs, 0x10400);
});

t.test('usage errors exit 2 with a message', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [[], /usage: phyr nvme/],
    [['frobnicate', 'emu'], /unknown command 'frobnicate'/],
    [['id-ctrl'], /a device is required/],
    [['id-ctrl', 'emu', 'emu'], /one device/],
    [['id-ctrl', 'emu', '--vendor'], /unknown option '--vendor'/],
    [['id-ns', 'emu'], /--namespace-id \(-n\) is required/],
    [['id-ns', 'emu', '-n', 'x'], /unsigned number/],
    [['id-ns', 'emu', '-n', '9'], /namespace 9|Invalid Namespace/],
    [['id-ctrl', 'emu', '-o', 'xml'], /normal, json or binary/],
    [['get-log', 'emu', '-i', '2', '-l', '6'], /multiple of 4/],
    [['error-log', 'emu', '-e', '0'], /non-zero log-entries/],
    [['get-feature', 'emu', '-s', '8'], /invalid 'select'/],
    [['id-ctrl', 'emu:bogus=1'], /bogus/],
    [['list', 'emu'], /list takes no device/],
  ];
  for (const [argv, re] of cases) {
    const r = await nvme(...argv);
    t.match(r.err, re, argv.join(' '));
    if (!(argv[0] === 'id-ns' && argv[3] === '9')) t.equal(r.code, 2, `${argv.join(' ')} exits 2`);
  }
  const help = await nvme('smart-log', '--help');
  t.equal(help.code, 0);
  t.match(help.out, /--namespace-id=<NUM>, -n <NUM>/);
});

t.test('SMART counters count what the host did (data units, commands)', async (t) => {
  const ctrl = await open('emu:size=4M');
  t.teardown(() => ctrl.close());
  const smart = async () => smartLogJson((await adminWithData(ctrl, getLogPageSqe(NVME.LOG_SMART, 0xffffffff, 512), 512)).data);
  const before = await smart();
  const ns = ctrl.namespace(1);
  const buf = ctrl.pool.alloc(512 * 1000);
  for (let i = 0; i < 3; i++) await ns.write(i * 1000, buf);
  await ns.read(0, buf);
  buf.free();
  const after = await smart();
  t.equal(BigInt(after.get('host_write_commands') as string) - BigInt(before.get('host_write_commands') as string), 3n);
  t.equal(BigInt(after.get('host_read_commands') as string) - BigInt(before.get('host_read_commands') as string), 1n);
  t.equal(BigInt(after.get('data_units_written') as string) - BigInt(before.get('data_units_written') as string), 3n, '3 x 1000 x 512 bytes');
  t.equal(BigInt(after.get('data_units_read') as string) - BigInt(before.get('data_units_read') as string), 1n);
});

t.test('features the embedded controller reports hold real values: set, read back, default, reset', async (t) => {
  const walk = await nvme('get-feature', 'emu');
  t.same(walk.out.split('\n').map((l) => l.slice(0, 16)), ['get-feature:0x01', 'get-feature:0x02', 'get-feature:0x04', 'get-feature:0x06', 'get-feature:0x07', 'get-feature:0x08', 'get-feature:0x0a', 'get-feature:0x0b']);
  t.match(walk.out, /get-feature:0x04 \(Temperature Threshold\), Current value:0x00000157/, 'the over threshold defaults to WCTEMP, 343 K');
  const ctrl = await open('emu');
  t.teardown(() => ctrl.close());
  t.equal(ctrl.identify.wctemp, 343);
  t.equal(ctrl.identify.cctemp, 363);
  const { getFeaturesSqe, setFeaturesSqe } = await import('../../drivers/nvme');
  const get = (fid: number, sel = 0, cdw11 = 0) => ctrl.adminCommand(getFeaturesSqe(fid, sel, 0xffffffff, cdw11));
  const set = (fid: number, v: number) => ctrl.adminCommand(setFeaturesSqe(fid, v, 0xffffffff, false));
  const UNDER = 1 << 20;
  await set(NVME.FEAT_TEMPERATURE_THRESHOLD, 330);
  await set(NVME.FEAT_TEMPERATURE_THRESHOLD, UNDER | 270);
  t.equal(await get(NVME.FEAT_TEMPERATURE_THRESHOLD), 330);
  t.equal(await get(NVME.FEAT_TEMPERATURE_THRESHOLD, 0, UNDER), 270);
  t.equal(await get(NVME.FEAT_TEMPERATURE_THRESHOLD, 1), 343, 'SEL 1: the default');
  await t.rejects(set(NVME.FEAT_TEMPERATURE_THRESHOLD, (3 << 16) | 300), /Invalid Field/, 'no sensor 3');
  await set(NVME.FEAT_ARBITRATION, 0x03020103);
  t.equal(await get(NVME.FEAT_ARBITRATION), 0x03020103);
  await t.rejects(set(NVME.FEAT_POWER_MANAGEMENT, 1), /Invalid Field/, 'NPSS 0: power state 1 does not exist');
  await set(NVME.FEAT_POWER_MANAGEMENT, 0x20);
  t.equal(await get(NVME.FEAT_POWER_MANAGEMENT), 0x20);
  await set(NVME.FEAT_WRITE_ATOMICITY, 1);
  t.equal(await get(NVME.FEAT_WRITE_ATOMICITY), 1);
  await ctrl.reset('features return to their defaults');
  t.equal(await get(NVME.FEAT_TEMPERATURE_THRESHOLD), 343);
  t.equal(await get(NVME.FEAT_ARBITRATION), 0);
  t.equal(await get(NVME.FEAT_WRITE_ATOMICITY), 0);
});

t.test('compare: blocks that match succeed, blocks that differ fail with Compare Failure (CLI and driver)', async (t) => {
  const zeros = `/tmp/nvmecli-zeros-${process.pid}.bin`;
  const ones = `/tmp/nvmecli-ones-${process.pid}.bin`;
  writeFileSync(zeros, Buffer.alloc(1024));
  writeFileSync(ones, Buffer.alloc(1024, 0xff));
  t.teardown(() => {
    rmSync(zeros, { force: true });
    rmSync(ones, { force: true });
  });
  // A fresh namespace reads zeros (DLFEAT).
  const same = await nvme('compare', 'emu', '-n', '1', '-s', '4', '-c', '1', '-z', '1024', '-d', zeros);
  t.equal(same.code, 0, same.err);
  t.equal(same.err, 'compare: Success');
  const diff = await nvme('compare', 'emu', '-n', '1', '-c', '1', '-z', '1024', '-d', ones);
  t.equal(diff.code, 1);
  t.match(diff.err, /Compare Failure/);
  t.equal((await nvme('compare', 'emu', '-n', '1', '-d', zeros)).code, 2, 'no data size');
  const ctrl = await open('emu');
  t.teardown(() => ctrl.close());
  const ns = ctrl.namespace(1);
  const data = Buffer.alloc(512, 0x5a);
  await ns.write(7, data);
  await ns.compare(7, data);
  await t.rejects(ns.compare(7, Buffer.alloc(512, 0x5b)), /Compare Failure/);
});

t.test('io-passthru: a raw Read returns the data, a raw Write needs --force and lands', async (t) => {
  const file = `/tmp/nvmecli-io-${process.pid}.bin`;
  writeFileSync(file, Buffer.alloc(512, 0xa5));
  t.teardown(() => rmSync(file, { force: true }));
  const read = await nvme('io-passthru', 'emu', '-o', '0x02', '-n', '1', '--cdw10=3', '-l', '512', '-r', '-b');
  t.equal(read.code, 0, read.err);
  t.equal(read.err, 'IO Command Read is Success and result: 0x00000000');
  t.same(read.bytes[0], new Uint8Array(512), 'a fresh namespace reads zeros');
  t.equal((await nvme('io-passthru', 'emu', '-o', '0x01', '-n', '1', '-l', '512', '-w', '-i', file)).code, 2, 'Write refused without --force');
  const oob = await nvme('io-passthru', 'emu', '-o', '0x02', '-n', '1', '--cdw10=0xffffffff', '--cdw11=0xff', '-l', '512', '-r');
  t.equal(oob.code, 1);
  t.match(oob.err, /LBA Out of Range/);
  // Write then read back through the driver on one controller (the CLI opens a new one each run).
  const ctrl = await open('emu');
  t.teardown(() => ctrl.close());
  const { runIoCommand } = await import('../../tools/nvme/io-command');
  const { adminSqe } = await import('../../drivers/nvme');
  await runIoCommand(ctrl, adminSqe(NVME.IO_WRITE, { nsid: 1, cdw10: 9 }), 512, Buffer.alloc(512, 0xa5), 5000);
  const back = Buffer.alloc(512);
  await ctrl.namespace(1).read(9, back);
  t.same(back, Buffer.alloc(512, 0xa5));
});
