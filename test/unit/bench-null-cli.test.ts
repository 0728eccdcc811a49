// `phyr bench null` from the built CLI (dist/tools/phyr.js): the device-less target runs
// the engine and the driver's queue pair over the in-thread loopback. Size- and
// count-bound jobs must issue exactly the IOs their options ask for, every output format
// must say there is no device, and what cannot mean anything without a device is refused
// before any IO with exit status 2.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { CLI, checkRows, type Row } from '../helpers/cli-rows';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function bench(...args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, 'bench', 'null', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface JsonDirection {
  total_ios: number;
  io_bytes: number;
}
interface JsonJob {
  jobname: string;
  read: JsonDirection;
  write: JsonDirection;
  trim: JsonDirection;
  phyr: { ios: number; dptr: string; sgl_commands: number; prp_commands: number; splits: number; cpu_ns_per_io: number };
}
interface JsonDoc {
  jobs: JsonJob[];
  phyr: { target: string; target_description: string; device?: string; iommu_faults?: number };
}

function json(...args: string[]): JsonDoc {
  const r = bench(...args, '--output-format=json');
  if (r.status !== 0) throw new Error(`exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as JsonDoc;
}

t.test('normal output: a number_ios job issues exactly that many IOs and says there is no device', async (t) => {
  const r = bench('--name=count', '--rw=randread', '--bs=4k', '--iodepth=16', '--number_ios=5000');
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^phyr bench .* on null: no device: an in-thread loopback controller/m);
  t.match(r.stdout, /issued rwts: total=5000,0,0,0/);
  t.match(r.stdout, /phyr {9}: dptr=prp \(prp=5000, sgl=0\).*ios=5000/);
  t.match(r.stdout, /^phyr: target=null \(no device.*\), no device, no IOMMU$/m);
  t.notMatch(r.stdout, /iommu faults=/, 'no IOMMU figure is printed for a target without one');
});

t.test('JSON: a size-bound job reads the region once; the phyr block says device none', async (t) => {
  const doc = json('--name=sized', '--rw=read', '--bs=4k', '--iodepth=8', '--size=1m');
  const j = doc.jobs[0];
  t.equal(j.read.total_ios, 256, '1 MiB in 4 KiB reads');
  t.equal(j.read.io_bytes, 1 << 20);
  t.equal(j.phyr.ios, 256);
  t.equal(doc.phyr.target, 'null');
  t.equal(doc.phyr.device, 'none');
  t.match(doc.phyr.target_description, /^no device: /);
  t.notOk('iommu_faults' in doc.phyr, 'no iommu_faults figure without an IOMMU');
});

t.test('io_size and loops bound the job as on a device', async (t) => {
  const doc = json('--name=io', '--rw=randwrite', '--bs=8k', '--iodepth=4', '--size=1m', '--io_size=256k', '--loops=3');
  t.equal(doc.jobs[0].write.total_ios, 3 * 32, 'three loops of 256 KiB in 8 KiB writes');
  t.equal(doc.jobs[0].write.io_bytes, 3 * (256 << 10));
});

t.test('numjobs=2: each clone does its own IOs; group_reporting folds them', async (t) => {
  const apart = json('--name=two', '--rw=write', '--bs=4k', '--iodepth=4', '--size=512k', '--numjobs=2');
  t.equal(apart.jobs.length, 2);
  t.same(apart.jobs.map((j) => j.write.total_ios), [128, 128]);
  const folded = json('--name=two', '--rw=write', '--bs=4k', '--iodepth=4', '--size=512k', '--numjobs=2', '--group_reporting');
  t.equal(folded.jobs.length, 1);
  t.equal(folded.jobs[0].write.total_ios, 256);
});

t.test('a time-based job runs for its runtime', async (t) => {
  const doc = json('--name=timed', '--rw=randread', '--bs=4k', '--iodepth=32', '--runtime=500ms', '--time_based');
  t.ok(doc.jobs[0].read.total_ios > 1000, `${doc.jobs[0].read.total_ios} IOs in 0.5 s`);
  t.ok(doc.jobs[0].phyr.cpu_ns_per_io > 0, 'the job thread\'s CPU per IO was measured');
});

t.test('data pointers: --dptr=sgl builds SGLs; blocks past the 512 KiB transfer limit split', async (t) => {
  const sgl = json('--name=sgl', '--rw=randread', '--bs=64k', '--iodepth=4', '--number_ios=100', '--dptr=sgl');
  t.equal(sgl.jobs[0].phyr.sgl_commands, 100);
  t.equal(sgl.jobs[0].phyr.dptr, 'sgl');
  const split = json('--name=big', '--rw=read', '--bs=1m', '--iodepth=2', '--size=8m', '--dptr=prp');
  t.equal(split.jobs[0].read.total_ios, 8);
  t.equal(split.jobs[0].phyr.splits, 8, 'each 1 MiB read is two 512 KiB commands');
});

t.test('trims, flushes and a 4 KiB-block namespace', async (t) => {
  const trim = json('--name=trim', '--rw=randtrim', '--bs=4k', '--iodepth=4', '--number_ios=200');
  t.equal(trim.jobs[0].trim.total_ios, 200);
  const sync = bench('--name=sync', '--rw=write', '--bs=4k', '--iodepth=1', '--number_ios=100', '--fsync=10');
  t.equal(sync.status, 0, sync.stderr);
  t.match(sync.stdout, /issued rwts: total=0,100,0,0/);
  const r = spawnSync(process.execPath, [CLI, 'bench', 'null:size=64m,lbads=12', '--name=big', '--rw=read', '--bs=16k', '--output-format=json'], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.stderr);
  t.equal((JSON.parse(r.stdout) as JsonDoc).jobs[0].read.total_ios, 4096, 'the whole 64 MiB namespace in 16 KiB reads');
});

t.test('terse and json+ formats, --status-interval and the logs', async (t) => {
  const terse = bench('--name=t', '--rw=randread', '--number_ios=1000', '--output-format=terse');
  t.equal(terse.status, 0, terse.stderr);
  t.match(terse.stdout, /^3;phyr-[^;]+;t;0;0;/);
  const plus = bench('--name=p', '--rw=randread', '--number_ios=1000', '--output-format=json+');
  t.equal(plus.status, 0, plus.stderr);
  t.ok((JSON.parse(plus.stdout) as { jobs: Array<{ read: { clat_ns: { bins?: object } } }> }).jobs[0].read.clat_ns.bins, 'json+ carries histogram bins');
  const status = bench('--name=s', '--rw=randread', '--runtime=2', '--time_based', '--status-interval=1', '--output-format=json');
  t.equal(status.status, 0, status.stderr);
  t.ok(status.stdout.split(/^\{$/m).length - 1 >= 2, 'an interval report before the final one');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-null-logs-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const logs = bench('--name=l', '--rw=randread', '--runtime=1', '--time_based', `--write_iops_log=${path.join(dir, 'n')}`, '--log_avg_msec=100');
  t.equal(logs.status, 0, logs.stderr);
  const log = fs.readFileSync(path.join(dir, 'n_iops.1.log'), 'utf8').trim().split('\n');
  t.ok(log.length >= 5, `${log.length} IOPS windows of 100 ms in 1 s`);
});

t.test('pacing: --rate_iops holds the job to its rate', async (t) => {
  const doc = json('--name=paced', '--rw=randread', '--bs=4k', '--rate_iops=2000', '--runtime=1', '--time_based');
  const ios = doc.jobs[0].read.total_ios;
  t.ok(ios >= 1500 && ios <= 2100, `${ios} IOs at 2000 IOPS for 1 s (paced, not the loopback's millions)`);
});

const rows: Row[] = [
  { args: ['bench', 'null', '--name=v', '--rw=write', '--verify=crc32c'], says: /job 'v': --verify=crc32c cannot mean anything on the null target: it has no device and stores nothing/ },
  { args: ['bench', 'null', '--name=v', '--rw=write', '--verify=md5', '--do_verify=0'], says: /--verify=md5 cannot mean anything on the null target/ },
  { args: ['bench', 'null', '--name=v', '--rw=read', '--verify=null'], says: /--verify=null cannot mean anything on the null target/ },
  { args: ['bench', 'null', '--name=c', '--mem=cmb'], says: /job 'c': --mem=cmb needs a controller memory buffer, and the null target has no controller; use --mem=pool/ },
  { args: ['bench', 'null', '--name=p', '--mem=p2p:emu'], says: /--mem=p2p:emu needs a peer device's BAR, and the null target has no controller/ },
  { args: ['bench', 'null', '--name=n', '--nsid=2'], says: /--nsid=2: the null target has one namespace, 1/ },
  { args: ['bench', 'null:size=1q', '--name=x'], says: /target 'null:size=1q': size=1q: expected a whole number of bytes/ },
  { args: ['bench', 'null:size=0', '--name=x'], says: /size=0: must be a non-zero multiple of the LBA size/ },
  { args: ['bench', 'null:size=100', '--name=x'], says: /size=100: must be a non-zero multiple of the LBA size \(512 bytes\)/ },
  { args: ['bench', 'null:size=8p', '--name=x'], says: /size=8p: at most 4503599627370496 bytes/ },
  { args: ['bench', 'null:lbads=10', '--name=x'], says: /lbads=10: expected 9 \(512 B\) or 12 \(4 KiB\)/ },
  { args: ['bench', 'null:bogus=1', '--name=x'], says: /unknown key 'bogus'; the null target takes size=SIZE/ },
  { args: ['bench', 'null:size', '--name=x'], says: /'size' is not key=value/ },
  { args: ['bench', 'null:size=1g,size=2g', '--name=x'], says: /size is given twice/ },
  { args: ['bench', 'null:size=1g', '--name=x', '--size=2g'], says: /size=2G.* reaches beyond namespace 1/ },
  { args: ['bench', 'null:lbads=12', '--name=x', '--bs=512'], says: /bs=512.* is not a multiple of the namespace's LBA size \(4096 bytes\)/ },
  { args: ['bench', 'null:size=1q', '--parse-only'], says: /target 'null:size=1q'/ },
  { args: ['identify', 'null'], says: /'null' is phyr bench's device-less target \(no controller, no PCI function\)/ },
  { args: ['validate', 'null'], says: /'null' is phyr bench's device-less target/ },
];

t.test('what cannot mean anything without a device is refused by name, before any IO', async (t) => {
  await checkRows(t, rows, 15_000, process.env.PATH ?? '');
});
