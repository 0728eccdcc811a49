// fio's %o in verify_pattern, against real fio 3.33: 8 bytes of the IO's byte offset,
// little-endian, pasted into the pattern (fio's paste_format), which then fills the IO.
// With verify=pattern (no header) a block holds only the pattern, so fio's file and phyr's
// namespace image must be byte for byte the same, and each side must verify the other's.
// buffer_pattern refuses %o, as fio fails parsing it.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseBenchArgs } from '../../bench/cli/config';
import { openBenchDevice } from '../../bench/cli/device';
import { runJobs } from '../../bench/cli/runner';
import type { JobResult } from '../../bench/cli/results';

const quiet = { isTty: false, write: () => undefined };
const NS = 4 << 20;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-pat-offset-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

const probe = spawnSync('fio', ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) throw new Error('real fio is required for these differential tests (install the fio package)');

function image(name: string): string {
  const f = path.join(tmp, name);
  fs.rmSync(f, { force: true });
  fs.writeFileSync(f, '');
  fs.truncateSync(f, NS);
  return f;
}

function fio(file: string, args: string[]): number {
  const r = spawnSync('fio', ['--name=p', `--filename=${file}`, '--ioengine=psync', '--output-format=json', ...args], { encoding: 'utf8' });
  if (r.status !== 0 && !r.stdout.includes('{')) throw new Error(`fio: ${r.stderr}`);
  return (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: Array<{ error: number }> }).jobs[0].error;
}

async function phyr(file: string, args: string[]): Promise<JobResult> {
  const cfg = parseBenchArgs([`emu:backend=file:${file},size=4M`, '--name=p', ...args]);
  const d = await openBenchDevice(cfg.target, cfg.jobs);
  try {
    return (await runJobs(d, cfg.jobs, cfg.run, quiet))[0];
  } finally {
    await d.close();
  }
}

t.test('%o: verify_pattern takes it, buffer_pattern refuses it (fio and phyr)', async (t) => {
  const parses = (opt: string) => spawnSync('fio', ['--name=a', '--filename=/dev/null', opt, '--parse-only'], { encoding: 'utf8' }).status === 0;
  t.equal(parses('--verify_pattern=%o'), true, 'fio: verify_pattern=%o');
  t.equal(parses('--buffer_pattern=%o'), false, 'fio: buffer_pattern=%o fails parsing');
  t.equal(parses('--buffer_pattern=0xaa%o'), false, 'fio: buffer_pattern=0xaa%o fails parsing');
  const j = parseBenchArgs(['emu', '--name=a', '--verify_pattern=0xaa%o']).jobs[0];
  t.same(j.verifyPattern, [0xaa, 0, 0, 0, 0, 0, 0, 0, 0], 'phyr: 0xaa then 8 bytes for the offset');
  t.same(j.verifyPatternOffsets, [1]);
  for (const p of ['%o', '0xaa%o']) t.throws(() => parseBenchArgs(['emu', '--name=a', `--buffer_pattern=${p}`]), { code: 'PHYR_BENCH_BAD_OPTION', message: /verify_pattern only/ }, `phyr: buffer_pattern=${p}`);
  t.throws(() => parseBenchArgs(['emu', '--name=a', '--verify_pattern=%x']), /one % format is %o/);
});

for (const pattern of ['%o', '0x11223344%o0x55667788']) {
  t.test(`verify=pattern verify_pattern=${pattern}: fio's file and phyr's image are the same bytes, and each verifies the other's`, async (t) => {
    const opts = ['--bs=4k', '--size=1m', '--verify=pattern', `--verify_pattern=${pattern}`];
    const f = image('fio.img');
    const p = image('phyr.img');
    t.equal(fio(f, ['--rw=write', '--do_verify=0', ...opts]), 0, 'fio wrote');
    const w = await phyr(p, ['--rw=write', '--do_verify=0', ...opts]);
    t.equal(w.error, 0, w.errorMessage ?? 'phyr wrote');
    const fb = fs.readFileSync(f).subarray(0, 1 << 20);
    const pb = fs.readFileSync(p).subarray(0, 1 << 20);
    t.equal(fb.readBigUInt64LE(8192 + (pattern === '%o' ? 0 : 4)), 8192n, 'fio: the IO at 8192 carries 8192');
    t.ok(fb.equals(pb), 'the same bytes');
    const back = await phyr(f, ['--rw=write', '--verify_only=1', ...opts]);
    t.equal(back.verifyErrors, 0, 'phyr verifies fio\'s file');
    t.ok(back.verifyChecked > 0, `${back.verifyChecked} blocks checked`);
    t.equal(fio(p, ['--rw=write', '--verify_only=1', ...opts]), 0, 'fio verifies phyr\'s image');
  });
}

t.test('a block moved to another offset fails %o (fio and phyr)', async (t) => {
  const opts = ['--bs=4k', '--size=1m', '--verify=pattern', '--verify_pattern=%o'];
  const f = image('moved.img');
  t.equal(fio(f, ['--rw=write', '--do_verify=0', ...opts]), 0);
  const fd = fs.openSync(f, 'r+');
  const blk = Buffer.alloc(4096);
  fs.readSync(fd, blk, 0, 4096, 4096);
  fs.writeSync(fd, blk, 0, 4096, 0); // the IO at 0 now holds the one written at 4096
  fs.closeSync(fd);
  t.not(fio(f, ['--rw=write', '--verify_only=1', ...opts]), 0, 'fio: an error');
  const r = await phyr(f, ['--rw=write', '--verify_only=1', ...opts]);
  t.ok(r.verifyErrors > 0, `phyr: ${r.verifyErrors} errors`);
  t.equal(r.verifyFailures[0]?.lba, 0, 'at LBA 0');
});

t.test('%o with block size ranges is refused: the read-back must read the writes\' IOs', async (t) => {
  const f = image('range.img');
  await t.rejects(phyr(f, ['--rw=write', '--bsrange=4k-16k', '--size=1m', '--verify=pattern', '--verify_pattern=%o']), /one block size/);
});
