// phyr bench under injected faults, run as a user runs it (the built CLI in a child
// process): a lost completion ends the job at its per-command timeout naming the command,
// a controller fatal status (CSTS.CFS) ends it at once naming the CFS, each in bounded time
// with exit status 1 — never a hang, never an exit 0.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

function bench(args: string[], limitMs = 30_000): Run {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, 'bench', ...args], { encoding: 'utf8', timeout: limitMs, killSignal: 'SIGKILL' });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
}

t.before(() => {
  // The CLI under test is the built one: without it this test cannot run, and says so.
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
});

t.test('a dropped read completion fails the job at cmd_timeout, naming the command', async (t) => {
  const r = bench(['emu:backend=null,faults=drop:nth=300', '--rw=randread', '--iodepth=8', '--runtime=60', '--time_based', '--cmd_timeout=300ms', '--eta=never']);
  t.equal(r.signal, null, 'not killed by the test timeout');
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /phyr bench: job 'randread' failed: command timed out: read \(opcode 02h\) of 8 blocks at LBA \d+, \d+ ms after its doorbell with no completion \(cmd_timeout 300 ms\); \d+ command\(s\) in flight/);
  t.ok(r.seconds < 15, `ended in ${r.seconds} s, not after the 60 s runtime`);
  t.match(r.stdout, /err= ?110/, 'the report carries the error');
});

t.test('a dropped write completion names a write (opcode 01h)', async (t) => {
  const r = bench(['emu:backend=ram,size=64M,faults=drop:nth=50', '--rw=randwrite', '--iodepth=4', '--bs=16k', '--runtime=60', '--time_based', '--cmd_timeout=200ms', '--eta=never', '--output-format=json']);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /command timed out: write \(opcode 01h\) of 32 blocks at LBA \d+/);
  const doc = JSON.parse(r.stdout) as { jobs: Array<{ error: number; phyr: { error_message?: string } }> };
  t.equal(doc.jobs[0].error, 110);
  t.match(doc.jobs[0].phyr.error_message, /cmd_timeout 200 ms/);
  t.ok(r.seconds < 15, `ended in ${r.seconds} s`);
});

t.test('CSTS.CFS ends the job at once and is named (default 10 s command timeout)', async (t) => {
  const r = bench(['emu:backend=null,faults=cfs:after=2000', '--rw=randread', '--iodepth=16', '--runtime=60', '--time_based', '--eta=never']);
  t.equal(r.signal, null, 'not killed by the test timeout');
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /phyr bench: job 'randread' failed: controller fatal status: CSTS\.CFS = 1 \(CSTS = 0x[0-9a-f]+\), the controller completes nothing until it is reset; 16 command\(s\) in flight, the oldest: read \(opcode 02h\)/);
  // Well under the 10 s command timeout: the CFS was seen, not waited out.
  t.ok(r.seconds < 8, `ended in ${r.seconds} s`);
});

t.test('CFS with the fault recurring after every reset still ends in bounded time', async (t) => {
  const r = bench(['emu:backend=null,faults=cfs:after=100', '--rw=read', '--iodepth=4', '--size=64m', '--eta=never', '--cmd_timeout=2s']);
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /CSTS\.CFS = 1/);
  t.ok(r.seconds < 15, `ended in ${r.seconds} s`);
});

t.test('a healthy run with a short cmd_timeout passes and reports the option', async (t) => {
  const r = bench(['emu:backend=null', '--rw=randread', '--iodepth=8', '--runtime=300ms', '--time_based', '--cmd_timeout=1s', '--eta=never', '--output-format=json']);
  t.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { 'global options': Record<string, string>; jobs: Array<{ error: number; read: { io_bytes: number } }> };
  t.equal(doc.jobs[0].error, 0);
  // Given before any --name: a global option, reported as written.
  t.equal(doc['global options'].cmd_timeout, '1s');
  t.ok(doc.jobs[0].read.io_bytes > 0);
});
