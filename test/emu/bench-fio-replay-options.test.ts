// replay_scale, replay_align, replay_time_scale and replay_skip next to real fio 3.33
// replaying the same version 3 iolog (psync on a regular file of the namespace's size).
// fio cannot log a replay (read_iolog overrides write_iolog), so its IOs are read from
// --debug=io's "queue:" lines; phyr's from its write_iolog of the replay. Measured on
// fio 3.33: an offset is divided by replay_scale, then rounded down to replay_align;
// replay_time_scale=S runs the log's times at S % of its rate; replay_skip changes nothing
// in an iolog replay (fio applies it to blktrace replays only) — phyr applies it to the
// iolog, an intended difference.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseBenchArgs } from '../../bench/cli/config';
import { fioOracle } from '../helpers/fio-oracle';

const oracle = fioOracle(t, 'replayopt', { nsBytes: 8 << 20 });

// A version 3 log (microsecond timestamps) of reads and writes and a sync, on fio's file.
function writeLog(name: string, lines: Array<[number, string, number, number]>): string {
  const img = oracle.image();
  const file = path.join(oracle.dir(), name);
  const body = lines.map(([ts, action, off, len]) => `${ts} ${img} ${action} ${off} ${len}`);
  fs.writeFileSync(file, ['fio version 3 iolog', `0 ${img} add`, `0 ${img} open`, ...body, `${lines[lines.length - 1][0] + 1} ${img} close`, ''].join('\n'));
  return file;
}

const IOS: Array<[number, string, number, number]> = [
  [1, 'write', 0, 4096], [2, 'read', 12288, 8192], [3, 'write', 1050624, 4096], [4, 'sync', 0, 0], [5, 'read', 1001472, 4096], [6, 'write', 3 << 20, 16384],
];

// fio's queued IOs (read and write; its syncs have no offset) from --debug=io.
function fioIos(args: string[]): string[] {
  const r = spawnSync('fio', ['--name=r', '--ioengine=psync', '--debug=io', '--output-format=json', ...args], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`fio ${args.join(' ')}: ${r.stderr}`);
  const out: string[] = [];
  for (const m of `${r.stdout}\n${r.stderr}`.matchAll(/queue: io_u \S+ off=0x([0-9a-f]+),len=0x([0-9a-f]+),ddir=([01]),/g)) out.push(`${m[3] === '0' ? 'read' : 'write'} ${parseInt(m[1], 16)} ${parseInt(m[2], 16)}`);
  return out;
}

function phyrIos(args: string[]): string[] {
  const log = path.join(oracle.dir(), 'phyr-replay.log');
  fs.rmSync(log, { force: true });
  oracle.phyr(['--name=r', ...args, `--write_iolog=${log}`, '--output=/dev/null']);
  return fs.readFileSync(log, 'utf8').split('\n').map((l) => / (read|write) (\d+) (\d+)$/.exec(l)).filter((m) => m !== null).map((m) => `${m![1]} ${m![2]} ${m![3]}`);
}

t.test('replay_scale and replay_align move the offsets as fio\'s do', async (t) => {
  const log = writeLog('scale.log', IOS);
  for (const opts of [[], ['--replay_scale=3', '--replay_align=4096'], ['--replay_align=8192'], ['--replay_scale=2', '--replay_align=512'], ['--replay_scale=4']]) {
    const args = [`--read_iolog=${log}`, ...opts];
    const f = fioIos(args);
    t.ok(f.length === 5, `fio ${opts.join(' ')}: ${f.length} IOs`);
    t.same(phyrIos(args), f, `${opts.join(' ') || 'as logged'}: fio's offsets, lengths and order: ${f.join(', ')}`);
  }
});

t.test('replay_time_scale runs the log at that percentage of its rate, as fio', async (t) => {
  // The first IO at 1000 us, not 0: fio 3.33 times a version 3 log from its first non-zero
  // timestamp (a first IO at 0 drops the first gap; measured).
  const log = writeLog('time.log', [[1000, 'read', 0, 4096], [151_000, 'read', 4096, 4096], [301_000, 'read', 8192, 4096]]);
  const runtime = (who: 'fio' | 'phyr', scale: number): number => {
    const args = ['--name=r', `--read_iolog=${log}`, `--replay_time_scale=${scale}`, '--output-format=json'];
    const out = who === 'fio' ? oracle.fio(args) : oracle.phyr(args);
    return (JSON.parse(out.slice(out.indexOf('{'))) as { jobs: Array<{ job_runtime: number }> }).jobs[0].job_runtime;
  };
  for (const [scale, ms] of [[100, 300], [50, 600], [200, 150]]) {
    const f = runtime('fio', scale);
    const p = runtime('phyr', scale);
    // The log spans 300 ms; both take its span / (scale / 100), within 20 % or 40 ms.
    t.ok(Math.abs(f - ms) <= Math.max(40, 0.2 * ms), `fio at ${scale} %: ${f} ms (expected about ${ms})`);
    t.ok(Math.abs(p - f) <= Math.max(40, 0.2 * f), `phyr at ${scale} %: ${p} ms, fio ${f} ms`);
  }
});

t.test('replay_skip leaves the types out in phyr; fio 3.33 issues every IO of an iolog', async (t) => {
  const log = writeLog('skip.log', IOS);
  const all = fioIos([`--read_iolog=${log}`]);
  t.same(fioIos([`--read_iolog=${log}`, '--replay_skip=write']), all, 'fio: replay_skip=write still issues the writes (intended difference)');
  t.same(phyrIos([`--read_iolog=${log}`, '--replay_skip=write']), all.filter((x) => x.startsWith('read')), 'phyr: only the reads');
  t.same(phyrIos([`--read_iolog=${log}`, '--replay_skip=read,sync']), all.filter((x) => x.startsWith('write')), 'phyr: only the writes');
  t.throws(() => oracle.phyr(['--name=r', `--read_iolog=${log}`, '--replay_skip=read,write', '--output=/dev/null']), /replay_skip=read,write leaves no read, write or trim to replay/);
});

t.test('bad replay values are refused, naming what to give', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['--replay_align=3000', /replay_align.*power of two/],
    ['--replay_align=0', /replay_align/],
    ['--replay_scale=0', /replay_scale/],
    ['--replay_time_scale=0', /replay_time_scale/],
    ['--replay_skip=flush', /replay_skip.*unknown IO type 'flush'.*read, write, trim and sync/],
    ['--replay_skip=', /replay_skip.*a value is required/],
    ['--replay_redirect=/dev/nvme0n1', /replay_redirect.*replays a log onto its TARGET/],
  ];
  for (const [arg, re] of bad) t.throws(() => parseBenchArgs(['--name=a', arg]), re, arg);
  const j = parseBenchArgs(['--name=a', '--replay_scale=3', '--replay_align=4k', '--replay_time_scale=50', '--replay_skip=trim,sync']).jobs[0];
  t.match(j, { replayScale: 3, replayAlign: 4096, replayTimeScale: 50, replaySkip: ['trim', 'sync'] });
});
