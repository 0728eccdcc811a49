// `phyr plot` on the command line: bad inputs are usage errors (exit 2) naming the file
// and line, without a stack trace; the page goes to a file written whole, or to stdout.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import t from 'tap';
import { writeAtomically } from '../../tools/plot';
import { BW_LOG_AVG, phyrResult } from './fixtures/plot-docs';

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'tools', 'phyr.js');

function phyr(args: string[]) {
  if (!fs.existsSync(CLI)) throw new Error('dist/tools/phyr.js is missing: run npm run build:ts first');
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-plot-cmd-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text);
  return p;
};

const good = file('good.json', JSON.stringify(phyrResult()));
const short = phyrResult();
((short.jobs as Array<{ phyr: { timeline: { read: { iops: number[] } } } }>)[0].phyr.timeline.read.iops).pop();
const badNull = phyrResult();
((badNull.jobs as Array<{ phyr: { timeline: { read: { iops: unknown[] } } } }>)[0].phyr.timeline.read.iops)[1] = null;

const cases: Array<{ name: string; args: string[]; says: RegExp }> = [
  { name: 'no -o', args: ['plot', good], says: /phyr plot: -o FILE\.html is required/ },
  { name: 'no input', args: ['plot', '-o', path.join(dir, 'x.html')], says: /no input: give at least one RESULT\.json or fio log file/ },
  { name: 'unknown option', args: ['plot', good, '--bogus', '-o', '-'], says: /Unknown option '--bogus'/ },
  { name: 'missing file', args: ['plot', path.join(dir, 'missing.json'), '-o', '-'], says: /result file '.*missing\.json': cannot be opened: it does not exist/ },
  { name: 'a directory', args: ['plot', dir, '-o', '-'], says: /is a directory; a result file must be a regular file/ },
  { name: 'not JSON', args: ['plot', file('nope.json', '{"jobs": ['), '-o', '-'], says: /nope\.json: not JSON \(.*\); give a result written with --output-format=json/ },
  { name: 'JSON, not a result', args: ['plot', file('other.json', '{"a": 1}'), '-o', '-'], says: /other\.json: JSON, but not a fio or phyr result \(it needs a "jobs" array and a "fio version" or "phyr version"\)/ },
  { name: 'timeline array too short', args: ['plot', file('short.json', JSON.stringify(short)), '-o', '-'], says: /short\.json: jobs\[0\]\.phyr\.timeline\.read\.iops has 3 entries; t_ms has 4/ },
  { name: 'timeline null iops', args: ['plot', file('null.json', JSON.stringify(badNull)), '-o', '-'], says: /null\.json: jobs\[0\]\.phyr\.timeline\.read\.iops\[1\] is null, not a non-negative number/ },
  { name: 'log line with 3 columns', args: ['plot', file('r_bw.1.log', '100, 5, 0, 0, 0\n200, 5, 0\n'), '-o', '-'], says: /r_bw\.1\.log:2: 3 columns; a fio bw log line has 4 to 6/ },
  { name: 'log lines disagree', args: ['plot', file('r_lat.1.log', '100, 5, 0, 0, 0\n200, 5, 0, 0, 7, 0\n'), '-o', '-'], says: /r_lat\.1\.log:2: 6 columns where the file's first line has 5/ },
  { name: 'log direction', args: ['plot', file('r_clat.1.log', '100, 5, 7, 0, 0\n'), '-o', '-'], says: /r_clat\.1\.log:1: the direction column is '7', not 0 \(read\), 1 \(write\) or 2 \(trim\)/ },
  { name: 'log value', args: ['plot', file('r_iops.1.log', '100, x, 0, 0, 0\n'), '-o', '-'], says: /r_iops\.1\.log:1: the value column is 'x'/ },
  { name: 'hist columns', args: ['plot', file('r_clat_hist.1.log', '100, 0, 4096, 1, 2, 3\n'), '-o', '-'], says: /r_clat_hist\.1\.log: 3 bucket columns; fio writes 1856/ },
  { name: 'text, not JSON, not a log name', args: ['plot', file('run.txt', '100, 5, 0, 0, 0\n'), '-o', '-'], says: /run\.txt: not JSON .* or a fio log file named PREFIX_KIND\.N\.log/ },
  { name: 'output is a directory', args: ['plot', good, '-o', dir], says: /-o '.*': is a directory/ },
  { name: 'output over an input', args: ['plot', good, '-o', good], says: /is one of the inputs; the report would overwrite it/ },
];

for (const c of cases) {
  t.test(`refused: ${c.name}`, async (t) => {
    const r = phyr(c.args);
    t.equal(r.status, 2, `exit 2 (${r.stderr.trim()})`);
    t.match(r.stderr, c.says);
    t.match(r.stderr, /\(see phyr plot --help\)/);
    t.notMatch(r.stderr, /\n\s+at /, 'no stack trace');
    t.equal(r.stdout, '', 'nothing on stdout');
  });
}

t.test('-o - writes the page to stdout; -o FILE writes it whole, no temporary file left', async (t) => {
  const log = file('run_bw.1.log', BW_LOG_AVG);
  const r = phyr(['plot', good, log, '-o', '-']);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /^<!DOCTYPE html>/);
  t.match(r.stdout, /<\/html>\n$/);
  const out = path.join(dir, 'out', 'page.html');
  fs.mkdirSync(path.dirname(out));
  fs.writeFileSync(out, 'old');
  const w = phyr(['plot', good, log, '-o', out, '--title', 'two <runs>']);
  t.equal(w.status, 0, w.stderr);
  t.equal(w.stdout, '');
  const page = fs.readFileSync(out, 'utf8');
  t.equal(page, r.stdout.replace(/phyr plot: good\.json, run_bw\.1\.log/g, 'two &lt;runs&gt;'), 'the same page, with the title escaped');
  t.same(fs.readdirSync(path.dirname(out)), ['page.html'], 'renamed into place');
});

t.test('a page that cannot be written replaces nothing and says why', async (t) => {
  const out = path.join(dir, 'keep.html');
  fs.writeFileSync(out, 'the old page');
  const blocker = path.join(dir, `.keep.html.${process.pid}.tmp`);
  fs.mkdirSync(blocker);
  t.teardown(() => fs.rmSync(blocker, { recursive: true, force: true }));
  t.throws(() => writeAtomically(out, 'new'), { code: 'PHYR_PLOT_WRITE', message: /-o '.*keep\.html': the page could not be written \(.*\); nothing was replaced/ });
  t.equal(fs.readFileSync(out, 'utf8'), 'the old page');
  t.ok(fs.statSync(blocker).isDirectory(), 'a directory in the way is left alone');
});

t.test('--help, and phyr --help lists plot', async (t) => {
  const h = phyr(['plot', '--help']);
  t.equal(h.status, 0);
  t.match(h.stdout, /usage: phyr plot INPUT \[INPUT\.\.\.\] -o FILE\.html/);
  t.match(h.stdout, /PREFIX_KIND\.N\.log/);
  const top = phyr(['--help']);
  t.match(top.stdout, /\n {2}plot {7}draw a results page/);
});
