// phyr bench's JSON and json+ reports next to real fio's (Debian's fio package is the
// oracle): the options are reported as written, [global] ones apart; a direction with no
// IO carries no histogram bins; nothing unmeasured is printed; the producer is phyr, named
// as such; and fio's own json+ reader, fio_jsonplus_clat2csv, reads phyr's output.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'tools', 'phyr.js');
const NS_BYTES = 64 << 20;
const TARGET = `emu:backend=null,size=${NS_BYTES}`;

type Doc = Record<string, unknown> & { 'global options': Record<string, string>; jobs: Array<Record<string, any>> };

let dir = '';
let image = '';

function which(tool: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(':')) {
    const p = path.join(d, tool);
    if (d && fs.existsSync(p)) return p;
  }
  return undefined;
}

t.before(() => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build:ts first`);
  // The oracle and its reader are required, not optional: without them this test cannot
  // compare anything, and says so (CI installs Debian's fio package).
  for (const tool of ['fio', 'fio_jsonplus_clat2csv']) if (!which(tool)) throw new Error(`${tool} is not installed (Debian package fio): this test compares phyr with it`);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-json-'));
  // fio runs on a regular file of the namespace's size.
  image = path.join(dir, 'ns.img');
  fs.writeFileSync(image, '');
  fs.truncateSync(image, NS_BYTES);
});

t.teardown(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function phyr(args: string[]): Doc {
  const r = spawnSync(process.execPath, [CLI, 'bench', TARGET, '--eta=never', ...args], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`phyr bench ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Doc;
}

// fio's engine and file are command-line globals here, so they show up in its "global
// options"; they are taken out before comparing (phyr's TARGET takes their place).
function fio(args: string[]): Doc {
  const r = spawnSync('fio', ['--ioengine=psync', `--filename=${image}`, ...args], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`fio ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  const doc = JSON.parse(r.stdout) as Doc;
  delete doc['global options'].ioengine;
  delete doc['global options'].filename;
  return doc;
}

function clat2csv(doc: Doc, name: string): { status: number | null; stderr: string; csv: string[] } {
  const input = path.join(dir, `${name}.json`);
  const output = path.join(dir, `${name}.csv`);
  fs.writeFileSync(input, JSON.stringify(doc));
  const r = spawnSync('fio_jsonplus_clat2csv', [input, output], { encoding: 'utf8', timeout: 60_000 });
  // The tool writes one CSV per job: NAME_job0.csv, ...
  const csv = doc.jobs.map((_, i) => path.join(dir, `${name}_job${i}.csv`));
  const v = r.status === 0 ? spawnSync('fio_jsonplus_clat2csv', [input, output, '--validate'], { encoding: 'utf8', timeout: 60_000 }) : r;
  return { status: v.status, stderr: `${r.stderr}${v === r ? '' : v.stderr}`, csv: csv.filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f, 'utf8')) };
}

const SAMPLE_KEYS = ['bw_min', 'bw_max', 'bw_agg', 'bw_mean', 'bw_dev', 'bw_samples', 'iops_min', 'iops_max', 'iops_mean', 'iops_stddev', 'iops_samples'];

t.test('json+: a direction with no IO has no bins, as in fio; fio_jsonplus_clat2csv reads the report', async (t) => {
  const readOnly = ['--output-format=json+', '--name=r', '--rw=read', '--bs=4k', '--size=1m'];
  const mine = phyr(readOnly);
  const theirs = fio(readOnly);
  for (const d of ['write', 'trim']) {
    t.same(Object.keys(mine.jobs[0][d].clat_ns).sort(), Object.keys(theirs.jobs[0][d].clat_ns).sort(), `${d}.clat_ns: the keys fio writes for an idle direction`);
    t.notOk('bins' in mine.jobs[0][d].clat_ns, `${d}: no bins`);
  }
  t.ok(Object.keys(mine.jobs[0].read.clat_ns.bins).length > 0, 'the read direction has its bins');
  const mixed = phyr(['--output-format=json+', '--name=m', '--rw=randrw', '--bs=4k', '--size=1m']);
  t.ok(mixed.jobs[0].read.total_ios > 0 && mixed.jobs[0].write.total_ios > 0, 'both directions did IO');
  for (const [name, doc] of [['read-only', mine], ['mixed', mixed]] as const) {
    const r = clat2csv(doc, name);
    t.equal(r.status, 0, `fio_jsonplus_clat2csv on the ${name} job (and --validate): ${r.stderr}`);
    t.equal(r.csv.length, 1, `${name}: one CSV file`);
    const lines = (r.csv[0] ?? '').trim().split('\n');
    t.match(lines[0], /^nsec, /, `${name}: the CSV header`);
    t.ok(lines.length > 1, `${name}: latency rows in the CSV`);
  }
});

t.test('job options as written, [global] in global options: the same objects as fio', async (t) => {
  const file = path.join(dir, 'g.fio');
  fs.writeFileSync(file, ['[global]', 'bs=4k', 'size=1m', '', '[r1]', 'rw=read', 'offset=8k', 'randseed=7', '', '[r2]', 'rw=randread', 'norandommap', 'percentile_list=50:99', 'bs=8k', ''].join('\n'));
  const mine = phyr(['--output-format=json', file]);
  const theirs = fio(['--output-format=json', file]);
  t.same(mine['global options'], theirs['global options'], `global options: ${JSON.stringify(theirs['global options'])}`);
  t.same(mine['global options'], { bs: '4k', size: '1m' });
  t.same(mine.jobs.map((j) => j['job options']), theirs.jobs.map((j) => j['job options']), `job options: ${JSON.stringify(theirs.jobs.map((j) => j['job options']))}`);

  const cli = ['--output-format=json', '--bs=4k', '--size=1m', '--runtime=30', '--name=a', '--rw=read', '--offset=8k', '--name=b', '--rw=write', '--bs=8k', '--percentile_list=50:99'];
  const mineCli = phyr(cli);
  const theirsCli = fio(cli);
  t.same(mineCli['global options'], theirsCli['global options'], `command-line globals: ${JSON.stringify(theirsCli['global options'])}`);
  t.same(mineCli.jobs.map((j) => j['job options']), theirsCli.jobs.map((j) => j['job options']), `command-line jobs: ${JSON.stringify(theirsCli.jobs.map((j) => j['job options']))}`);
  t.same(mineCli.jobs[1]['job options'], { name: 'b', rw: 'write', bs: '8k', percentile_list: '50:99' });
});

t.test('nothing unmeasured: a job shorter than one sample interval has fio\'s zero sample statistics, page faults as counted; phyr names itself', async (t) => {
  const doc = phyr(['--output-format=json', '--name=w', '--rw=write', '--bs=4k', '--size=1m']);
  const j = doc.jobs[0];
  // fio, too, writes zeros and samples=0 for a job that ended before its first 500 ms sample.
  const theirs = fio(['--output-format=json', '--name=w', '--rw=write', '--bs=4k', '--size=1m']).jobs[0];
  for (const d of ['read', 'write', 'trim']) for (const k of SAMPLE_KEYS) t.equal(j[d][k], theirs[d][k], `${d}.${k}: ${theirs[d][k]}, as fio's`);
  t.equal(j.write.bw_samples, 0, 'no samples');
  for (const k of ['majf', 'minf']) t.ok(Number.isInteger(j[k]) && j[k] >= 0, `${k}=${j[k]} is a count`);
  const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  t.equal(doc['phyr version'], `phyr-${version}`);
  t.notOk('fio version' in doc, 'phyr does not claim to be fio');
  t.equal(j.write.total_ios, 256);
});
