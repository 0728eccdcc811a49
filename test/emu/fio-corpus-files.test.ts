// The differential corpus, job-file half (fixtures/fio-corpus/files.ts says what each
// folder holds): fio 3.33's --parse-only verdict and phyr's agree for every file (phyr
// never accepts what fio rejects); the jobs/ files run through both and are compared.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseBenchArgs } from '../../bench/cli/config';
import { knownOptionNames } from '../../bench/cli/options';
import { CORPUS_ENV, JOB_FILES, STRICTER } from './fixtures/fio-corpus/files';
import { CORPUS, TARGET, compare, fioAccepts, openDevice, phyrAccepts, runFio, runPhyr, scratch } from './fixtures/fio-corpus/harness';

Object.assign(process.env, CORPUS_ENV);
const list = (dir: string) => fs.readdirSync(path.join(CORPUS, dir)).filter((f) => f.endsWith('.fio')).sort().map((f) => path.join(CORPUS, dir, f));

t.test('fio and phyr accept every jobs/ and kernel/ file', async (t) => {
  for (const f of [...list('jobs'), ...list('kernel')]) {
    const fio = fioAccepts([], f);
    t.ok(fio.ok, `fio --parse-only ${path.relative(CORPUS, f)} ${fio.stderr.trim()}`);
    const phyr = phyrAccepts([], f);
    t.ok(phyr.ok, `phyr accepts ${path.relative(CORPUS, f)} ${phyr.error ?? ''}`);
  }
});

t.test('kernel/ files run on a TARGET: one notice per replaced option, naming it', async (t) => {
  for (const f of list('kernel')) {
    const cfg = parseBenchArgs([TARGET, f]);
    const text = fs.readFileSync(f, 'utf8');
    const keys = text.split('\n').map((l) => l.replace(/[;#].*/, '').trim()).filter((l) => l && !l.startsWith('[')).map((l) => l.split('=')[0]);
    const noticed = ['ioengine', 'filename', 'hipri', 'fixedbufs', 'registerfiles', 'sqthread_poll', 'userspace_reap', 'cmd_type', 'invalidate'].filter((k) => keys.includes(k));
    t.same(cfg.notices.map((n) => /^--([a-z_]+)/.exec(n)?.[1]).sort(), noticed.sort(), `${path.basename(f)}: ${cfg.notices.join(' | ')}`);
  }
});

t.test('fio refuses every rejected/ file and so does phyr', async (t) => {
  const files = list('rejected');
  t.ok(files.length >= 8, `${files.length} files`);
  for (const f of files) {
    const name = path.relative(CORPUS, f);
    t.notOk(fioAccepts([], f).ok, `fio --parse-only refuses ${name}`);
    const phyr = phyrAccepts([], f);
    t.notOk(phyr.ok, `phyr refuses ${name}: ${phyr.error}`);
  }
});

t.test('stricter/ files: fio\'s --parse-only passes them, phyr refuses each for the reason listed', async (t) => {
  const files = list('stricter');
  t.same(files.map((f) => path.basename(f)), Object.keys(STRICTER).sort(), 'every file has its reason');
  for (const f of files) {
    const name = path.basename(f);
    t.ok(fioAccepts([], f).ok, `fio --parse-only passes ${name} (${STRICTER[name]})`);
    t.notOk(phyrAccepts([], f).ok, `phyr refuses ${name}: ${phyrAccepts([], f).error}`);
  }
});

t.test('every jobs/ file runs as fio runs it', async (t) => {
  const s = scratch('files');
  t.teardown(s.done);
  const d = await openDevice();
  t.teardown(() => d.close());
  const files = list('jobs');
  for (const k of Object.keys(JOB_FILES)) t.ok(files.some((f) => path.basename(f) === k), `${k} is in jobs/`);
  for (const f of files) {
    const c = JOB_FILES[path.basename(f)] ?? {};
    const name = `${(c.args ?? []).join(' ')} ${path.basename(f)}`.trim();
    const fio = runFio(s.dir, c.args ?? [], f);
    if (!fio.outcome) {
      t.fail(`${name}: fio refused it: ${fio.stderr.trim()}`);
      continue;
    }
    let diffs: string[];
    try {
      diffs = compare(fio.outcome, await runPhyr(d, c.args ?? [], f), c.tolerance);
    } catch (e) {
      diffs = [`phyr refused: ${(e as Error).message}`];
    }
    const listed = c.differs ?? [];
    t.same(diffs.filter((l) => !listed.some((x) => l.includes(x.line))), [], name);
    for (const x of listed) {
      const shows = diffs.filter((l) => l.includes(x.line));
      if (x.open) t.ok(shows.length === 0, `${name}: ${shows.join('; ')}`, { todo: `open difference: ${x.why}` });
      else t.ok(shows.length > 0, `${name}: the intended difference still shows (${x.why})`);
    }
  }
});

t.test('command lines fio refuses, phyr refuses too', async (t) => {
  const cases = [
    ['--hipri'], ['--rw=sideways'], ['--frobnicate=1'], ['--iodepth=lots'],
    ['--size=($ncpus*2)'], ['--time_based=maybe'], ['--ioengine=psync', '--fixedbufs'], ['--rwmixread=101'], ['--bs=0'],
  ];
  for (const args of cases) {
    t.notOk(fioAccepts(args).ok, `fio --parse-only refuses ${args.join(' ')}`);
    const phyr = phyrAccepts(args);
    t.notOk(phyr.ok, `phyr refuses ${args.join(' ')}: ${phyr.error}`);
  }
});

t.test('every generic option of fio 3.33 is known to phyr (supported, replaced, default-only or refused by name)', async (t) => {
  const r = spawnSync('fio', ['--cmdhelp=all'], { encoding: 'utf8' });
  // A name as long as fio's column is followed by ':' with no space (log_alternate_epoch_clock_id).
  const names = [...new Set([...(r.stdout + r.stderr).matchAll(/^\s*([a-z0-9_]+)\s*:/gm)].map((m) => m[1]))];
  t.ok(names.length > 150, `fio lists ${names.length} options`);
  const known = new Set(knownOptionNames().map((n) => n.replace(/-/g, '_')));
  t.same(names.filter((n) => !known.has(n)), [], 'no fio option is unknown to phyr');
});
