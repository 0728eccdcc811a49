// phyr bench's batching options on the embedded controller: iodepth_batch_submit (and its
// alias iodepth_batch), iodepth_batch_complete_min / _max (alias iodepth_batch_complete) and
// iodepth_low run the job fio runs (the same IOs and bytes as fio with libaio's options on a
// regular file, through psync, which ignores them), out-of-range values are clamped as fio
// clamps them, and a value that is not a count is refused naming the option. How the
// loop batches (doorbells per command, reaps, refills) is checked natively, against a
// queue that counts them (test/native/bench_engine_test.cc).
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnIn, type Run } from '../helpers/fio-oracle';

const CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-batch-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const img = path.join(tmp, 'ns.img');

interface JsonJob {
  error: number;
  read: { total_ios: number; io_bytes: number };
  write: { total_ios: number; io_bytes: number };
  'job options': Record<string, string>;
}

const spawn = (cmd: string, args: string[]): Run => spawnIn(tmp, cmd, args);
const phyr = (args: string[]): Run => spawn(process.execPath, ['--no-warnings', CLI, 'bench', 'emu:backend=ram,size=64M', ...args, '--eta=never']);
const fio = (args: string[]): Run => spawn('fio', ['--ioengine=psync', `--filename=${img}`, ...args]);
const job = (r: Run): JsonJob => (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: JsonJob[] }).jobs[0];

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  const v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) throw new Error('fio is not installed: these tests compare phyr with real fio (apt-get install fio)');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 64 << 20);
});

t.test('batched jobs do fio\'s IOs, and report the options as written', async (t) => {
  const cases = [
    ['--iodepth=16', '--iodepth_batch_submit=4'],
    ['--iodepth=16', '--iodepth_batch=8', '--iodepth_batch_complete=4'],
    ['--iodepth=16', '--iodepth_low=4', '--iodepth_batch_complete_max=2'],
    ['--iodepth=8', '--iodepth_batch_complete_min=8', '--iodepth_batch_complete_max=16'],
    // fio clamps: a batch or low mark above iodepth is iodepth, a maximum below the minimum is the minimum.
    ['--iodepth=4', '--iodepth_batch_submit=64', '--iodepth_low=9', '--iodepth_batch_complete_min=3', '--iodepth_batch_complete_max=1'],
  ];
  for (const c of cases) {
    const args = ['--name=b', '--rw=randwrite', '--bs=4k', '--size=2m', ...c, '--output-format=json'];
    const f = job(fio(args));
    const pr = phyr(args);
    t.equal(pr.status, 0, `${c.join(' ')}: ${pr.stderr}`);
    const p = job(pr);
    t.same([p.error, p.write.total_ios, p.write.io_bytes], [f.error, f.write.total_ios, f.write.io_bytes], c.join(' '));
    // fio reports each option under its own name (iodepth_batch as iodepth_batch_submit,
    // iodepth_batch_complete as iodepth_batch_complete_min) with the value as written.
    const fioOptions = { ...f['job options'] };
    delete fioOptions.filename;
    delete fioOptions.ioengine;
    t.same(p['job options'], fioOptions, `${c.join(' ')}: job options as fio reports them`);
  }
});

t.test('a batch value that is not a count is refused, naming the option', async (t) => {
  for (const o of ['--iodepth_batch_submit=lots', '--iodepth_low=-1', '--iodepth_batch_complete_max=']) {
    const p = phyr(['--name=b', '--rw=read', '--bs=4k', '--size=1m', o]);
    t.not(p.status, 0, o);
    t.match(p.stderr, new RegExp(o.slice(2).split('=')[0]), o);
  }
});
