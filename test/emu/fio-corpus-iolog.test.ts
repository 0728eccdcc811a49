// The differential corpus, offset sequences: sequential and strided patterns through real
// fio 3.33 and phyr, both with --write_iolog; the logged IOs (direction, offset, length),
// in order, must be the same. fio runs psync (one IO at a time) on a 16 MiB file; phyr
// runs at iodepth 1 on the embedded controller's 16 MiB RAM namespace.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseBenchArgs } from '../../bench/cli/config';
import { runJobs } from '../../bench/cli/runner';
import { NS_BYTES, openDevice, scratch } from './fixtures/fio-corpus/harness';

const s = scratch('iolog');
t.teardown(s.done);

// The IOs of an iolog (version 2 or 3): "[time] file action offset length" lines.
function ios(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.includes('read') || f.includes('write')).map((f) => f.slice(f.findIndex((x) => x === 'read' || x === 'write')).join(' '));
}

const CASES: string[][] = [
  ['--rw=read', '--bs=4k', '--size=256k'],
  ['--rw=write', '--bs=16k', '--size=1m', '--offset=2m'],
  ['--rw=read:8k', '--bs=4k', '--size=256k'],
  ['--rw=write:12k', '--bs=4k', '--size=512k', '--offset=1m'],
  ['--rw=read:-8k', '--bs=4k', '--size=64k'],
  ['--rw=write:-4k', '--bs=8k', '--size=128k'],
  ['--rw=write', '--bs=8k', '--size=256k', '--verify=crc32c'],
  ['--rw=read', '--bsrange=4k-4k', '--size=128k', '--offset=25%'],
];

t.test(`${CASES.length} sequential and strided patterns log fio's exact offset sequence`, async (t) => {
  const d = await openDevice();
  t.teardown(() => d.close());
  for (const args of CASES) {
    const img = path.join(s.dir, 'ns.img');
    const fioLog = path.join(s.dir, 'fio.log');
    const phyrLog = path.join(s.dir, 'phyr.log');
    // fio appends to an existing log: each case starts from none.
    for (const f of [fioLog, phyrLog]) fs.rmSync(f, { force: true });
    fs.writeFileSync(img, '');
    fs.truncateSync(img, NS_BYTES);
    const r = spawnSync('fio', ['--name=a', `--filename=${img}`, '--ioengine=psync', `--write_iolog=${fioLog}`, '--output-format=json', ...args], { encoding: 'utf8', cwd: s.dir });
    t.equal(r.status, 0, `fio ${args.join(' ')} ${r.stderr}`);
    const cfg = parseBenchArgs(['--name=a', `--write_iolog=${phyrLog}`, ...args]);
    const [res] = await runJobs(d, cfg.jobs, cfg.run, { isTty: false, write: () => undefined });
    t.equal(res.error, 0, `phyr ${args.join(' ')}`);
    const f = ios(fioLog);
    const p = ios(phyrLog);
    t.ok(f.length > 0, `fio logged ${f.length} IOs`);
    t.same(p, f, `${args.join(' ')}: the same ${f.length} IOs in the same order`);
    t.match(fs.readFileSync(phyrLog, 'utf8'), /^fio version 2 iolog\nns1 add\nns1 open\n/);
  }
});

t.test('write_iolog is refused where the log cannot be sized before the run', async (t) => {
  t.throws(() => parseBenchArgs(['--name=a', '--write_iolog=/tmp/x.log', '--runtime=1', '--time_based']), /write_iolog with time_based/);
  t.throws(() => parseBenchArgs(['--name=a', '--write_iolog=/tmp/x.log', '--numjobs=2']), /write_iolog with numjobs > 1/);
});
