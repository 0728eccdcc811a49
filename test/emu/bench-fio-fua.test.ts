// fio's readfua / writefua (options of fio 3.33's sg engine): phyr bench sets the Force Unit
// Access bit, CDW12 bit 30 of the NVMe Read / Write command (NVMe 1.4 §6.9, §6.15). The
// embedded controller's file backend makes every FUA write durable before completing it,
// one fdatasync each (stats().syncs), so the count of syncs is the count of writes that
// carried the bit. Real fio is the oracle for the option syntax (a bool of the sg engine).
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseBenchArgs } from '../../bench/cli/config';
import { openBenchDevice } from '../../bench/cli/device';
import { runJobs } from '../../bench/cli/runner';
import type { EmuFunction } from '../../emu';

const quiet = { isTty: false, write: () => undefined };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-bench-fua-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

t.before(() => {
  const v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) throw new Error('fio is not installed: these tests compare phyr with real fio (apt-get install fio)');
});

/** Writes, reads and syncs of one run on a fresh file-backed controller. */
async function run(args: string[]): Promise<{ writes: number; reads: number; syncs: number }> {
  const img = path.join(tmp, `ns-${Math.random().toString(16).slice(2)}.img`);
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 8 << 20);
  const cfg = parseBenchArgs([`emu:backend=file:${img},size=8M`, '--name=f', '--bs=4k', '--size=1m', ...args]);
  const d = await openBenchDevice(cfg.target, cfg.jobs);
  try {
    const fn = d.controller.fn as EmuFunction;
    const before = fn.stats().syncs;
    const [r] = await runJobs(d, cfg.jobs, cfg.run, quiet);
    if (r.error !== 0) throw new Error(r.errorMessage ?? `error ${r.error}`);
    return { writes: r.write.ios, reads: r.read.ios, syncs: fn.stats().syncs - before };
  } finally {
    await d.close();
  }
}

t.test('fio takes readfua and writefua as bools of its sg engine; phyr takes the same values', async (t) => {
  for (const [opt, ok] of [['--readfua=1', true], ['--writefua=0', true], ['--readfua=x', false]] as const) {
    const f = spawnSync('fio', ['--name=a', '--ioengine=sg', '--filename=/dev/null', opt, '--parse-only'], { encoding: 'utf8' });
    t.equal(f.status === 0, ok, `fio ${opt}: ${ok ? 'accepted' : 'refused'}`);
    if (ok) t.doesNotThrow(() => parseBenchArgs(['emu', '--name=a', opt, '--parse-only']), `phyr ${opt}: accepted`);
    else t.throws(() => parseBenchArgs(['emu', '--name=a', opt, '--parse-only']), `phyr ${opt}: refused`);
  }
  const j = parseBenchArgs(['emu', '--name=a', '--readfua=1', '--writefua']).jobs[0];
  t.same([j.readFua, j.writeFua], [true, true]);
  const d = parseBenchArgs(['emu', '--name=a']).jobs[0];
  t.same([d.readFua, d.writeFua], [false, false], 'off by default, as in fio');
});

t.test('writefua: every write reaches the controller with FUA set; without it none does', async (t) => {
  const plain = await run(['--rw=write']);
  t.equal(plain.writes, 256);
  t.equal(plain.syncs, 0, 'no FUA: the write cache is on, no write synced');
  const fua = await run(['--rw=write', '--writefua=1']);
  t.equal(fua.writes, 256);
  t.equal(fua.syncs, 256, 'writefua=1: one durable (FUA) write per write');
  const rand = await run(['--rw=randwrite', '--iodepth=8', '--writefua=1']);
  t.equal(rand.syncs, rand.writes, 'randwrite at QD8: every write carried FUA');
  const off = await run(['--rw=write', '--writefua=0']);
  t.equal(off.syncs, 0, 'writefua=0: none');
  const readOnly = await run(['--rw=write', '--readfua=1']);
  t.equal(readOnly.syncs, 0, 'readfua does not touch writes');
  const verify = await run(['--rw=write', '--verify=crc32c', '--writefua=1']);
  t.equal(verify.writes, 256);
  t.equal(verify.reads, 256, 'verify read-back');
  t.equal(verify.syncs, 256, 'verify writes carry FUA too');
});
