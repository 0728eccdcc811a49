// phyr's fio ioengine (bench/fio-engine/) under real fio 3.33 against a served embedded
// controller: `phyr fio-engine` names the built engine, fio lists its options, jobs of
// several threads write and verify through their own queue pairs, a wrong verify pattern is
// caught (the data really goes to the controller and back), trim and fsync are issued, and
// bad engine options end fio's job with the engine's sentence instead of a crash.
import t from 'tap';
import { execFile, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fioEnginePath } from '../../tools/commands/fio-engine';
import { CLI, startDaemon, stopDaemon, tmpDir, type Daemon } from './fixtures/serve-helpers';

interface FioRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface FioJob {
  error: number;
  read: { io_bytes: number; total_ios: number };
  write: { io_bytes: number; total_ios: number };
  trim: { io_bytes: number; total_ios: number };
  sync: { total_ios: number };
}

const v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
if (v.error || v.status !== 0) throw new Error('fio is not installed: this test runs real fio through the engine (apt-get install fio)');

// fio writes verify state files into its working directory: a scratch one.
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-engine-'));
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));

const enginePath = spawnSync(process.execPath, [CLI, 'fio-engine'], { encoding: 'utf8' }).stdout.trim();

function fio(args: string[]): Promise<FioRun> {
  return new Promise((resolve) => {
    execFile('nice', ['fio', `--ioengine=external:${enginePath}`, '--thread=1', '--filename=phyr', ...args], { encoding: 'utf8', timeout: 120_000, cwd: work }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number; signal?: NodeJS.Signals }) | null;
      resolve({ status: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stdout, stderr });
    });
  });
}

function jobs(r: FioRun): FioJob[] {
  const json = r.stdout.slice(r.stdout.indexOf('{'));
  return (JSON.parse(json) as { jobs: FioJob[] }).jobs;
}

t.test('phyr fio-engine prints the absolute path of the built engine; fio lists its options', async (t) => {
  t.ok(path.isAbsolute(enginePath), `an absolute path: ${enginePath}`);
  t.ok(fs.statSync(enginePath).isFile(), 'the file exists');
  const help = spawnSync('fio', [`--enghelp=${enginePath}`], { encoding: 'utf8' });
  t.equal(help.status, 0, 'fio --enghelp=PATH exits 0');
  t.match(help.stdout, /^phyr_socket\s+:/m, 'phyr_socket is listed');
  t.match(help.stdout, /^phyr_nsid\s+:/m, 'phyr_nsid is listed');
  t.equal(fioEnginePath(), enginePath, 'the function and the command agree');
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-no-engine-'));
  t.teardown(() => fs.rmSync(empty, { recursive: true, force: true }));
  t.throws(() => fioEnginePath(path.join(empty, 'a', 'b')), { code: 'PHYR_NO_FIO_ENGINE', message: /fio engine is not built \(build\/Release\/phyr_fio\.node is missing\): run `npm install`/ }, 'not built: the error says what to run');
});

t.test('served emu controller', async (t) => {
  const dir = tmpDir();
  const d: Daemon = await startDaemon(dir, 'emu:backend=ram,size=64M');
  t.teardown(async () => {
    await stopDaemon(d);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const sock = `--phyr_socket=${d.socket}`;

  await t.test('two threads, iodepth 32, batched: randwrite then crc32c verify, each on its own region', async (t) => {
    const r = await fio([sock, '--name=w', '--rw=randwrite', '--bs=4k', '--iodepth=32', '--iodepth_batch_submit=8', '--iodepth_batch_complete_min=4', '--size=8M', '--numjobs=2', '--offset_increment=8M', '--verify=crc32c', '--output-format=json']);
    t.equal(r.signal, null, 'no signal');
    t.equal(r.status, 0, `fio exits 0 (stderr: ${r.stderr.trim()})`);
    const js = jobs(r);
    t.equal(js.length, 2, 'two jobs');
    for (const [i, j] of js.entries()) {
      t.equal(j.error, 0, `job ${i}: no error`);
      t.equal(j.write.io_bytes, 8 << 20, `job ${i}: 8 MiB written`);
      t.equal(j.read.io_bytes, 8 << 20, `job ${i}: all of it read back and verified`);
    }
  });

  await t.test('a verify with the wrong pattern fails: the data is the controller\'s', async (t) => {
    const base = [sock, '--bs=64k', '--iodepth=8', '--size=4M', '--offset=32M', '--verify=pattern'];
    const w = await fio([...base, '--name=w', '--rw=write', '--verify_pattern=0x5a', '--do_verify=0']);
    t.equal(w.status, 0, `the write exits 0 (stderr: ${w.stderr.trim()})`);
    const good = await fio([...base, '--name=r', '--rw=read', '--verify_pattern=0x5a']);
    t.equal(good.status, 0, `reading the written pattern verifies (stderr: ${good.stderr.trim()})`);
    const bad = await fio([...base, '--name=r', '--rw=read', '--verify_pattern=0xa5']);
    t.equal(bad.signal, null, 'no signal');
    t.not(bad.status, 0, 'another pattern fails the verify');
    t.match(bad.stdout + bad.stderr, /verify/i, 'fio names the verify failure');
  });

  await t.test('trim is Dataset Management, fsync=N is a Flush after every N writes', async (t) => {
    const tr = await fio([sock, '--name=t', '--rw=randtrim', '--bs=64k', '--iodepth=16', '--size=8M', '--output-format=json']);
    t.equal(tr.status, 0, `trim exits 0 (stderr: ${tr.stderr.trim()})`);
    const tj = jobs(tr)[0];
    t.equal(tj.error, 0, 'no error');
    t.equal(tj.trim.total_ios, 128, '8 MiB in 128 trims of 64 KiB');
    const fs8 = await fio([sock, '--name=f', '--rw=write', '--bs=4k', '--iodepth=4', '--size=1M', '--fsync=8', '--output-format=json']);
    t.equal(fs8.status, 0, `fsync exits 0 (stderr: ${fs8.stderr.trim()})`);
    const fj = jobs(fs8)[0];
    t.equal(fj.write.total_ios, 256, '256 writes');
    t.ok(fj.sync.total_ios >= 31 && fj.sync.total_ios <= 32, `a sync per 8 writes (${fj.sync.total_ios})`);
  });

  await t.test('each fio thread cleaned up after itself: the daemon released nothing for it', async (t) => {
    const detached = d.lines.filter((l) => / detached /.test(l));
    t.ok(detached.length >= 8, `${detached.length} clients detached`);
    t.same(detached.filter((l) => !/released 0 queue pairs, 0 mappings/.test(l)), [], 'every one had deleted its queue pair and unmapped its memory');
  });

  await t.test('bad engine options end the job with the engine\'s sentence, not a crash', async (t) => {
    const cases: Array<[string, string[], RegExp]> = [
      ['no socket', [], /phyr_socket is required/],
      ['a socket nobody serves', [`--phyr_socket=${path.join(dir, 'none.sock')}`], /cannot connect .*phyr serve/],
      ['a namespace the controller lacks', [sock, '--phyr_nsid=7'], /phyr_nsid=7: namespace 7 is not active on the served controller \(active: 1\)/],
    ];
    cases.push(['a block size that is not whole LBAs', [sock, '--bs=1000'], /offset \d+ \+ 1000 bytes is not whole 512-byte blocks/]);
    for (const [what, opts, re] of cases) {
      const r = await fio([...opts, '--name=bad', '--rw=read', '--size=1M']);
      t.equal(r.signal, null, `${what}: no signal`);
      t.not(r.status, 0, `${what}: fio fails`);
      t.match(r.stderr, re, `${what}: the sentence`);
    }
  });
});

t.test('the daemon killed under a running job: fio ends with the engine\'s sentence instead of polling for ever', async (t) => {
  const dir = tmpDir();
  const d = await startDaemon(dir, 'emu:backend=ram,size=16M');
  t.teardown(async () => {
    await stopDaemon(d);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const run = fio([`--phyr_socket=${d.socket}`, '--name=k', '--rw=randread', '--bs=4k', '--iodepth=32', '--time_based', '--runtime=60']);
  // The job's own client (the second: the first only read the namespace's size).
  await d.waitFor(/client 2 attached/);
  await new Promise((r) => setTimeout(r, 300));
  d.child.kill('SIGKILL');
  const started = Date.now();
  const r = await run;
  t.ok(Date.now() - started < 30_000, 'fio ended well before its 60 s runtime');
  t.equal(r.signal, null, 'no signal');
  t.not(r.status, 0, 'fio fails');
  t.match(r.stderr, /the phyr serve daemon went away \(it shut down or was killed\)/, 'the sentence');
});
