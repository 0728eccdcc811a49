// continue_on_error, ignore_error and max_latency on the embedded controller, run as a user
// runs them (the built CLI in a child process), with the controller failing or delaying
// every Nth command. The figures are exact: a 4 MiB job of 4 KiB IOs issues 1024 commands,
// so fail:nth=50 fails 20 of them. fio 3.33's meaning (measured on /dev/full with
// ignore_error=,ENOSPC): an error the job goes on past is counted in total_ios with no bytes
// and no latency, "error" is the first error, total_err / first_error are reported, and the
// exit status is 0; an error it does not go on past ends the job (exit 1).
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');

interface Direction { total_ios: number; io_bytes: number; lat_ns: { N: number } }
interface Job { error: number; total_err?: number; first_error?: number; read: Direction; write: Direction; trim: Direction; phyr: { error_message?: string } }
interface Run { status: number | null; stdout: string; stderr: string; job?: Job }

function bench(target: string, args: string[], format = 'json'): Run {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  const r = spawnSync(process.execPath, [CLI, 'bench', target, '--eta=never', `--output-format=${format}`, ...args], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  const job = format === 'json' && r.status !== 2 ? (JSON.parse(r.stdout) as { jobs: Job[] }).jobs[0] : undefined;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, job };
}

const FAIL_50 = 'emu:backend=null,faults=fail:nth=50';
const READS = ['--rw=randread', '--size=4m', '--bs=4k'];

t.test('continue_on_error=read: every failed read is counted and the job runs to its end', async (t) => {
  const r = bench(FAIL_50, [...READS, '--continue_on_error=read']);
  t.equal(r.status, 0, `exit 0 as fio: ${r.stderr}`);
  const j = r.job!;
  t.equal(j.total_err, 20);
  t.equal(j.first_error, 5, 'EIO');
  t.equal(j.error, 5, 'error is the first error');
  t.equal(j.read.total_ios, 1024, 'the failed reads are IOs of the job');
  t.equal(j.read.io_bytes, 1004 * 4096, 'with no bytes');
  t.equal(j.read.lat_ns.N, 1004, 'and no latency');
  t.match(j.phyr.error_message, /^20 error\(s\) continued past \(continue_on_error\); the first: read of 8 blocks at LBA \d+ failed with NVMe status 0x/);
  t.match(r.stderr, /job 'randread' went on past its errors/);
});

t.test('without it the first failed read ends the job', async (t) => {
  const r = bench(FAIL_50, READS);
  t.equal(r.status, 1);
  t.equal(r.job!.error, 5);
  t.notOk('total_err' in r.job!, 'no counts without the option, as fio');
  t.ok(r.job!.read.total_ios < 1024, `stopped early (${r.job!.read.total_ios} reads)`);
});

t.test('the error\'s type must be named: continue_on_error=write does not go on past a read error', async (t) => {
  const r = bench(FAIL_50, [...READS, '--continue_on_error=write']);
  t.equal(r.status, 1);
  t.equal(r.job!.error, 5);
  t.equal(r.job!.total_err, 0, 'an error of a type not named is not counted (fio breaks before counting)');
  t.equal(r.job!.first_error, 0);
});

t.test('io and all, and a trim is a write error as fio types it', async (t) => {
  for (const v of ['io', 'all', '1']) {
    const r = bench(FAIL_50, ['--rw=randrw', '--size=4m', `--continue_on_error=${v}`]);
    t.equal(r.status, 0, v);
    t.equal(r.job!.total_err, 20, v);
    t.equal(r.job!.read.total_ios + r.job!.write.total_ios, 1024, v);
  }
  const trims = bench(FAIL_50, ['--rw=trim', '--size=4m', '--continue_on_error=write']);
  t.equal(trims.status, 0, trims.stderr);
  t.equal(trims.job!.total_err, 20);
  t.equal(trims.job!.trim.total_ios, 1024);
});

t.test('ignore_error: its list replaces EIO, and a list turns its type on', async (t) => {
  const other = bench(FAIL_50, [...READS, '--continue_on_error=read', '--ignore_error=ENOSPC']);
  t.equal(other.status, 1, 'EIO is not on the read list: fatal');
  t.equal(other.job!.total_err, 1, 'but counted: the type is named');
  t.equal(other.job!.first_error, 5);
  const alone = bench(FAIL_50, [...READS, '--ignore_error=EIO']);
  t.equal(alone.status, 0, 'ignore_error=EIO alone goes on past read EIOs');
  t.equal(alone.job!.total_err, 20);
});

t.test('the normal and terse outputs carry the counts', async (t) => {
  const normal = bench(FAIL_50, [...READS, '--continue_on_error=read'], 'normal');
  t.equal(normal.status, 0);
  t.match(normal.stdout, /err= 5: pid=/);
  t.match(normal.stdout, /\n     issued rwts: total=1024,0,0,0 [^\n]*\n     errors    : total=20, first_error=5\/<Input\/output error>\n/);
  const terse = bench(FAIL_50, [...READS, '--continue_on_error=read'], 'terse');
  t.equal(terse.status, 0);
  const cols = terse.stdout.trim().split(';');
  t.same(cols.slice(-2), ['20', '5']);
  t.equal(cols[4], '5', 'the error column is the first error');
});

const DELAY = 'emu:backend=null,faults=delay:time=200ms:nth=200';

t.test('max_latency: a completion slower than it ends the job with ETIMEDOUT, in fio\'s words', async (t) => {
  for (const limit of ['100ms', '100000']) {
    const r = bench(DELAY, ['--rw=randread', '--size=4m', `--max_latency=${limit}`]);
    t.equal(r.status, 1, limit);
    t.equal(r.job!.error, 110, `${limit}: ETIMEDOUT`);
    t.match(r.job!.phyr.error_message, /^max latency exceeded: latency of \d+ nsec exceeds specified max \(100000000 nsec\): read of 8 blocks at LBA \d+$/);
    // iodepth 1: the 200th read is the slow one, and it is counted, as fio counts it.
    t.equal(r.job!.read.total_ios, 200, limit);
    t.equal(r.job!.read.lat_ns.N, 200, limit);
  }
});

t.test('max_latency is per direction, and above the delay nothing trips', async (t) => {
  const writesOnly = bench(DELAY, ['--rw=randread', '--size=4m', '--max_latency=,100ms']);
  t.equal(writesOnly.status, 0, 'a write limit does not bound reads');
  t.equal(writesOnly.job!.read.total_ios, 1024);
  const high = bench(DELAY, ['--rw=randread', '--size=4m', '--max_latency=2s']);
  t.equal(high.status, 0);
  t.equal(high.job!.error, 0);
});

t.test('continue_on_error does not go on past ETIMEDOUT unless ignore_error lists it (110)', async (t) => {
  const all = bench(DELAY, ['--rw=randread', '--size=4m', '--max_latency=100ms', '--continue_on_error=all']);
  t.equal(all.status, 1, 'ETIMEDOUT is not non-fatal');
  t.equal(all.job!.total_err, 1);
  t.equal(all.job!.first_error, 110);
  const listed = bench(DELAY, ['--rw=randread', '--size=4m', '--max_latency=100ms', '--ignore_error=110']);
  t.equal(listed.status, 0, listed.stderr);
  t.equal(listed.job!.total_err, 5, 'every 200th of 1024');
  t.equal(listed.job!.read.total_ios, 1024);
});

t.test('continue_on_error=verify: a read-back that fails its check is one error of the verify type', async (t) => {
  const CORRUPT = 'emu:backend=ram,size=16M,faults=corrupt:lba=64';
  const args = ['--rw=write', '--bs=4k', '--verify=crc32c', '--size=1m'];
  const going = bench(CORRUPT, [...args, '--continue_on_error=verify']);
  t.equal(going.status, 0, going.stderr);
  t.equal(going.job!.error, 84, 'EILSEQ, the first error');
  t.equal(going.job!.total_err, 1, 'one read, of 8 blocks, one failing');
  t.equal(going.job!.first_error, 84);
  t.match(going.job!.phyr.error_message, /the first: verify failed: 1 of the 8 blocks read at LBA 64 did not match what was written/);
  const other = bench(CORRUPT, [...args, '--continue_on_error=read']);
  t.equal(other.status, 1, 'a verify error is not a read error');
  t.equal(other.job!.error, 84);
  t.equal(other.job!.total_err, 0);
});

// Real fio as the oracle of the report's shape: fio cannot get EIO from a regular file, but
// /dev/full fails every write with ENOSPC, which ignore_error=,ENOSPC makes non-fatal.
t.test('against fio 3.33 on /dev/full: the same fields in the same places, the same counting', async (t) => {
  const fio = (format: string) => spawnSync('fio', ['--name=x', '--filename=/dev/full', '--rw=write', '--bs=4k', '--size=64k', '--continue_on_error=write', '--ignore_error=,ENOSPC', `--output-format=${format}`], { encoding: 'utf8', timeout: 60_000 });
  const fj = fio('json');
  t.equal(fj.status, 0, `fio exits 0 past its errors: ${fj.stderr}`);
  const fjob = (JSON.parse(fj.stdout.slice(fj.stdout.indexOf('{'))) as { jobs: Array<Record<string, unknown> & Job> }).jobs[0];
  const ours = bench(FAIL_50, ['--rw=write', '--size=4m', '--continue_on_error=write']);
  t.equal(ours.status, 0);
  const mine = JSON.parse(ours.stdout).jobs[0] as Record<string, unknown> & Job;
  const around = (o: Record<string, unknown>) => {
    const k = Object.keys(o);
    const i = k.indexOf('total_err');
    return [k[i - 1], k[i], k[i + 1]];
  };
  t.same(around(mine), around(fjob), 'total_err and first_error follow latency_ms, as fio');
  t.same(around(mine), ['latency_ms', 'total_err', 'first_error']);
  // fio counts each failed write in total_ios with no bytes: 16 writes, all failed, 0 bytes.
  t.same([fjob.write.total_ios, fjob.write.io_bytes, fjob.total_err, fjob.first_error, fjob.error], [16, 0, 16, 28, 28]);
  t.same([mine.write.total_ios, mine.write.io_bytes, mine.total_err, mine.first_error, mine.error], [1024, 1004 * 4096, 20, 5, 5]);
  const line = /\n     errors    : total=\d+, first_error=\d+\/<[^>]+>\n/;
  t.match(fio('normal').stdout, line, 'fio\'s errors line');
  t.match(bench(FAIL_50, ['--rw=write', '--size=4m', '--continue_on_error=write'], 'normal').stdout, line, 'phyr\'s, the same shape');
  t.same(fio('terse').stdout.trim().split(';').slice(-2), ['16', '28'], 'fio\'s terse: the counts last');
});
