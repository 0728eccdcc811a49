// fill_device=1 (alias fill_fs) on a namespace. fio's option sets size "really large" and
// writes until the filesystem is full; on a raw device it changes nothing. Measured on fio
// 3.33 over psync on a 64 MiB loop device (bs=64k): write size=1m 16 IOs, size=1m with
// offset=16m 16, no size= 1024 (the device), offset=16m 768, read 1024, size=32m with
// io_size=48m 768, each the same as without fill_device. Running fio with it on a regular
// file would fill the test machine's filesystem, so the oracle here is fio on a regular file
// of the namespace's size without the option (the block device's measured equivalent), and
// phyr with it against phyr without it.
import t from 'tap';
import { fioOracle, PHYR_CLI, spawnIn } from '../helpers/fio-oracle';

const o = fioOracle(t, 'fill-device');

interface JsonDir {
  io_bytes: number;
  total_ios: number;
}
interface JsonJob {
  error: number;
  read: JsonDir;
  write: JsonDir;
  'job options': Record<string, string>;
}

function job(out: string): JsonJob {
  return (JSON.parse(out.slice(out.indexOf('{'))) as { jobs: JsonJob[] }).jobs[0];
}

const counts = (j: JsonJob) => ({ error: j.error, reads: j.read.total_ios, readBytes: j.read.io_bytes, writes: j.write.total_ios, writeBytes: j.write.io_bytes });

t.test('the IOs of the same job without it, as fio on a block device', async (t) => {
  const cases: string[][] = [
    ['--rw=write', '--size=1m'],
    ['--rw=write', '--size=1m', '--offset=16m'],
    ['--rw=write'],
    ['--rw=write', '--offset=16m'],
    ['--rw=read'],
    ['--rw=write', '--size=32m', '--io_size=48m'],
    ['--rw=randwrite', '--size=1m'],
  ];
  for (const c of cases) {
    const args = ['--name=f', '--bs=64k', ...c, '--output-format=json'];
    const f = job(o.fio(args));
    const p = job(o.phyr([...args, '--fill_device=1']));
    const plain = job(o.phyr(args));
    t.same(counts(p), counts(f), c.join(' '));
    t.same(counts(p), counts(plain), `${c.join(' ')}: the same as phyr without it`);
    t.equal(p['job options'].fill_device, '1', 'reported as written');
  }
});

t.test('a notice says what phyr did; fill_fs is the same option; bad values are refused', async (t) => {
  for (const opt of ['--fill_device=1', '--fill_fs=1', '--fill_device']) {
    const r = spawnIn(o.dir(), process.execPath, [PHYR_CLI, 'bench', o.target, '--eta=never', '--name=f', '--rw=write', '--bs=64k', '--size=256k', opt]);
    t.equal(r.status, 0, opt);
    t.match(r.stderr, /notice: --fill_device: a namespace is a raw device.*size= still bounds the job/, opt);
  }
  const off = spawnIn(o.dir(), process.execPath, [PHYR_CLI, 'bench', o.target, '--eta=never', '--name=f', '--rw=write', '--bs=64k', '--size=256k', '--fill_device=0']);
  t.equal(off.status, 0);
  t.notMatch(off.stderr, /fill_device/, 'no notice for 0');
  for (const v of ['2', 'full']) {
    const r = spawnIn(o.dir(), process.execPath, [PHYR_CLI, 'bench', o.target, '--eta=never', '--name=f', '--rw=write', '--size=256k', `--fill_device=${v}`]);
    t.not(r.status, 0, v);
    t.match(r.stderr, /fill_device.*expected 0 or 1/, v);
  }
});
