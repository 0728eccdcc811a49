// phyr bench against real fio on run phases and errors: a verify failure is the job's
// error 84 (EILSEQ) in both outputs, a write job's read-back reports each direction over
// its own phase, a time-based write job skips the read-back it has no time for (with a
// notice), and group_reporting folds distinct jobs of a group into one entry. fio runs on
// a regular file with psync (the oracle); phyr runs the built CLI on the embedded
// controller, as a user runs it.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnIn, type Run } from '../helpers/fio-oracle';

const CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-phases-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const img = path.join(tmp, 'ns.img');


interface JsonDir {
  io_bytes: number;
  bw_bytes: number;
  runtime: number;
  total_ios: number;
}
interface JsonJob {
  jobname: string;
  groupid: number;
  error: number;
  job_runtime: number;
  read: JsonDir;
  write: JsonDir;
}

const spawn = (cmd: string, args: string[]): Run => spawnIn(tmp, cmd, args);

function phyr(args: string[]): Run {
  return spawn(process.execPath, ['--no-warnings', CLI, 'bench', ...args, '--eta=never']);
}

function fio(args: string[]): Run {
  return spawn('fio', ['--ioengine=psync', `--filename=${img}`, ...args]);
}

// fio may print notices before its JSON document on stdout.
function shape(jobs: JsonJob[]): unknown[] {
  return jobs.map((j) => [j.jobname, j.groupid, j.read.total_ios, j.write.total_ios]);
}

function jsonJobs(stdout: string): JsonJob[] {
  return (JSON.parse(stdout.slice(stdout.indexOf('{'))) as { jobs: JsonJob[] }).jobs;
}

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  // fio is the oracle: without it these comparisons cannot run, and say so.
  const v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) throw new Error('fio is not installed: these tests compare phyr with real fio (apt-get install fio)');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 64 << 20);
});

t.test('a verify failure is error 84 (EILSEQ) in the JSON and in the normal output, as in fio', async (t) => {
  // fio: write with verify headers, corrupt one block behind fio's back, read it back.
  const write = fio(['--name=v', '--rw=write', '--bs=4k', '--size=1M', '--verify=crc32c', '--do_verify=0', '--output-format=json']);
  t.equal(write.status, 0, write.stderr);
  const fd = fs.openSync(img, 'r+');
  fs.writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 3 * 4096);
  fs.closeSync(fd);
  const check = ['--name=v', '--rw=write', '--bs=4k', '--size=1M', '--verify=crc32c', '--verify_only'];
  const fioJson = jsonJobs(fio([...check, '--output-format=json']).stdout);
  t.equal(fioJson[0].error, 84, 'fio reports EILSEQ');
  const fioNormal = fio([...check, '--output-format=normal']).stdout;
  t.match(fioNormal, /v: \(groupid=0, jobs=1\): err=84 /);

  // phyr: the embedded controller corrupts LBA 0 on its way to host memory.
  const target = 'emu:backend=ram,size=64M,faults=corrupt:lba=0';
  const args = [target, '--name=v', '--rw=write', '--bs=4k', '--size=1M', '--verify=crc32c'];
  const json = phyr([...args, '--output-format=json']);
  t.equal(json.status, 1, 'a verify failure fails the run');
  const [job] = jsonJobs(json.stdout);
  t.equal(job.error, fioJson[0].error, 'the same error number as fio');
  t.match(json.stderr, /job 'v' failed: verify failed: 1 block\(s\) did not match what was written; the first at LBA 0/);
  const normal = phyr([...args, '--output-format=normal']);
  t.equal(normal.status, 1);
  t.match(normal.stdout, /v: \(groupid=0, jobs=1\): err=84[ :]/, 'the same err= field as fio');
});

t.test('write + verify: each direction reports its own phase runtime, as in fio', async (t) => {
  const args = ['--name=w', '--rw=write', '--bs=4k', '--size=16M', '--verify=crc32c', '--output-format=json'];
  const [f] = jsonJobs(fio(args).stdout);
  const [p] = jsonJobs(phyr(['emu:backend=ram,size=64M', ...args]).stdout);
  for (const [who, j] of [['fio', f], ['phyr', p]] as const) {
    t.equal(j.write.io_bytes, 16 << 20, `${who}: wrote 16 MiB`);
    t.equal(j.read.io_bytes, 16 << 20, `${who}: read 16 MiB back`);
    t.ok(j.read.runtime > 0 && j.write.runtime > 0, `${who}: both phases took time`);
    // The two phases split the job's time (each rounded to ms), not each the whole.
    t.ok(j.read.runtime + j.write.runtime <= j.job_runtime + 2, `${who}: read ${j.read.runtime} ms + write ${j.write.runtime} ms within job ${j.job_runtime} ms`);
    for (const d of [j.read, j.write]) {
      // runtime is whole ms: the bandwidth is over the phase's time within half a ms of it.
      const lo = (d.io_bytes * 1000) / (d.runtime + 0.5), hi = (d.io_bytes * 1000) / Math.max(0.01, d.runtime - 0.5);
      t.ok(d.bw_bytes >= lo * 0.999 && d.bw_bytes <= hi * 1.001, `${who}: bw ${d.bw_bytes} B/s over its own phase (${d.io_bytes} B in ${d.runtime} ms)`);
    }
  }
  // The normal output's group summary: run= per direction too.
  const normal = phyr(['emu:backend=ram,size=64M', '--name=w', '--rw=write', '--bs=4k', '--size=16M', '--verify=crc32c']).stdout;
  const run = (dir: string) => Number(new RegExp(`${dir}: bw=.*run=(\\d+)-\\d+msec`).exec(normal)?.[1]);
  const job = Number(/write: IOPS=.*\/(\d+)msec\)/.exec(normal)?.[1]);
  t.equal(run('WRITE'), job, 'WRITE run= is the write phase');
  t.ok(run('READ') > 0 && run('READ') < job + run('READ'), `READ run=${run('READ')} ms, its own phase`);
});

t.test('time_based write + verify: the read-back is skipped with a notice, as fio skips it', async (t) => {
  const args = ['--name=tw', '--rw=write', '--bs=4k', '--size=16M', '--verify=crc32c', '--time_based', '--runtime=1', '--output-format=json'];
  const f = fio(args);
  t.match(f.stdout, /verification read phase will never start/, 'fio warns');
  const [fj] = jsonJobs(f.stdout);
  t.equal(fj.read.io_bytes, 0, 'fio reads nothing back');
  t.ok(fj.write.io_bytes > 0);

  const p = phyr(['emu:backend=ram,size=64M', ...args]);
  t.equal(p.status, 0, p.stderr);
  t.match(p.stderr, /phyr bench: job 'tw': time_based writes for the whole runtime, so its verify read-back never starts: skipped/);
  t.notMatch(p.stderr, /\bfio\b/, 'the notice is phyr\'s own');
  const [pj] = jsonJobs(p.stdout);
  t.equal(pj.read.io_bytes, fj.read.io_bytes, 'phyr reads nothing back either');
  t.ok(pj.write.io_bytes > 0);
  t.ok(pj.job_runtime < 1500, `ended at the runtime (${pj.job_runtime} ms)`);

  // Without time_based the read-back still runs (fio's do_verify), and no notice.
  const q = phyr(['emu:backend=ram,size=64M', '--name=w', '--rw=write', '--size=1M', '--verify=crc32c', '--runtime=1', '--output-format=json']);
  t.notMatch(q.stderr, /never starts/);
  t.equal(jsonJobs(q.stdout)[0].read.io_bytes, 1 << 20);
});

t.test('group_reporting folds distinct jobs of one group into one entry, as in fio', async (t) => {
  const cases: Array<[string, string]> = [
    ['all group_reporting', '[global]\nsize=1M\ngroup_reporting\n[a]\nrw=write\nbs=4k\n[b]\nrw=read\nbs=8k\n'],
    // fio's rule: a job with group_reporting joins the entry before it; one without starts its own.
    ['clones and a stonewall', '[global]\nsize=1M\ngroup_reporting\n[a]\nrw=write\nbs=4k\nnumjobs=2\n[b]\nrw=read\nbs=8k\n[c]\nstonewall\nrw=read\nbs=16k\n'],
  ];
  for (const [what, text] of cases) {
    const fioFile = path.join(tmp, 'fio.fio');
    const phyrFile = path.join(tmp, 'phyr.fio');
    fs.writeFileSync(fioFile, text.replace('[global]\n', `[global]\nioengine=psync\nfilename=${img}\n`));
    fs.writeFileSync(phyrFile, text);
    const f = spawn('fio', [fioFile, '--output-format=json']);
    t.equal(f.status, 0, f.stderr);
    const p = phyr(['emu:backend=ram,size=64M', phyrFile, '--output-format=json']);
    t.equal(p.status, 0, p.stderr);
    t.same(shape(jsonJobs(p.stdout)), shape(jsonJobs(f.stdout)), `${what}: entries, names, groups and IOs as fio reports them`);
  }
  // Intended difference: a group_reporting job right after a job without it. fio 3.33
  // folds it into that plain job's entry (named after the plain job) and prints an extra
  // all-zero entry with no name; phyr reports the plain job alone and the group_reporting
  // jobs as their own entry. Checked against fio so a change on either side is seen.
  const mixed = '[global]\nsize=1M\n[a]\nrw=write\nbs=4k\n[b]\nrw=read\nbs=8k\ngroup_reporting\n[b2]\nrw=read\nbs=16k\ngroup_reporting\n[c]\nrw=read\nbs=16k\n';
  const mixedFile = path.join(tmp, 'mixed.fio');
  fs.writeFileSync(mixedFile, mixed.replace('[global]\n', `[global]\nioengine=psync\nfilename=${img}\n`));
  const fm = jsonJobs(spawn('fio', [mixedFile, '--output-format=json']).stdout);
  t.same(shape(fm), [['a', 0, 128 + 64, 256], ['c', 0, 64, 0], [undefined, 4294967295, 0, 0]], 'fio folds b and b2 into a, then an empty entry');
  fs.writeFileSync(mixedFile, mixed);
  const pm = jsonJobs(phyr(['emu:backend=ram,size=64M', mixedFile, '--output-format=json']).stdout);
  t.same(shape(pm), [['a', 0, 0, 256], ['b', 0, 128 + 64, 0], ['c', 0, 64, 0]], 'phyr: a alone, b and b2 as one entry, c alone');

  // The normal output: one block for the group, a header line for each job.
  const groupFile = path.join(tmp, 'g.fio');
  fs.writeFileSync(groupFile, cases[0][1]);
  const normal = phyr(['emu:backend=ram,size=64M', groupFile]).stdout;
  t.match(normal, /^a: \(g=0\): rw=write, bs=\(R\) 4096B-4096B/m);
  t.match(normal, /^b: \(g=0\): rw=read, bs=\(R\) 8192B-8192B/m);
  t.match(normal, /^a: \(groupid=0, jobs=2\): err= 0/m);
  t.notMatch(normal, /^b: \(groupid=/m);
});

