// phyr bench against real fio on where clones and percentage offsets start: offset_increment
// (bytes and N%) and offset_align. fio's start offsets come from its --write_iolog on a
// regular file of the namespace's size (the oracle); phyr's layout is read back on the
// embedded controller: the blocks a job wrote carry verify headers, so a verify read of the
// range fio names passes, and of the range just before it fails.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-offsets-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const img = path.join(tmp, 'ns.img');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}
function spawn(cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', cwd: tmp });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** fio's first write offset for the options (the last clone's, as clones share the log). */
function fioFirstOffset(args: string[]): number {
  const log = path.join(tmp, 'io.log');
  fs.rmSync(log, { force: true });
  const r = spawn('fio', ['--ioengine=psync', `--filename=${img}`, ...args, `--write_iolog=${log}`]);
  if (r.status !== 0) throw new Error(`fio failed: ${r.stderr}`);
  const m = /\swrite (\d+) \d+/.exec(fs.readFileSync(log, 'utf8'));
  if (!m) throw new Error('no write in fio\'s iolog');
  return Number(m[1]);
}

/** phyr writes with the options, then verify-reads `bytes` at `at`: the job error of that read. */
function phyrReadBack(args: string[], at: number, bytes: number): number {
  const file = path.join(tmp, 'layout.fio');
  const opts = args.map((a) => a.replace(/^--/, ''));
  fs.writeFileSync(file, ['[w]', ...opts, 'rw=write', 'verify=crc32c', 'do_verify=0', '[r]', 'stonewall', 'rw=read', 'bs=4k', 'numjobs=1', `offset=${at}`, `size=${bytes}`, 'verify=crc32c'].join('\n') + '\n');
  const r = spawn(process.execPath, ['--no-warnings', CLI, 'bench', 'emu:backend=ram,size=64M', '--eta=never', '--output-format=json', file]);
  if (!r.stdout.includes('{')) throw new Error(`phyr printed no report: ${r.stderr}`);
  const jobs = (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: Array<{ jobname: string; error: number }> }).jobs;
  return jobs.find((j) => j.jobname === 'r')!.error;
}

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  const v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) throw new Error('fio is not installed: these tests compare phyr with real fio (apt-get install fio)');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 64 << 20);
});

t.test('clones and percentage offsets start where fio starts them', async (t) => {
  const cases: string[][] = [
    ['--name=w', '--bs=64k', '--size=128k', '--numjobs=3', '--offset_increment=10%'],
    ['--name=w', '--bs=64k', '--size=256k', '--numjobs=2', '--offset=1m', '--offset_increment=8m'],
    ['--name=w', '--bs=64k', '--size=128k', '--offset=33%', '--offset_align=1m'],
    ['--name=w', '--bs=128k', '--size=128k', '--numjobs=2', '--offset=5%', '--offset_increment=3%', '--offset_align=256k'],
  ];
  for (const c of cases) {
    const at = fioFirstOffset(['--rw=write', ...c]);
    const size = Number(/--size=(\d+)k/.exec(c.join(' '))![1]) * 1024;
    t.equal(phyrReadBack(c.slice(1), at, size), 0, `${c.join(' ')}: phyr wrote the last clone at fio's ${at}`);
    t.equal(phyrReadBack(c.slice(1), at - 65536, 65536), 84, `${c.join(' ')}: and not just before it`);
  }
});
