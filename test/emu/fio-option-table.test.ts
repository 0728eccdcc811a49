// docs/BENCH.md's generated option table against real fio 3.33 and against phyr's own
// parser: every option `fio --cmdhelp=all` lists has a row, and no row claims an option
// the parser does not take (or refuses one the parser takes). The figures of fio's
// options by phyr's treatment are printed as a comment (BENCH.md quotes them).
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { optionTableRows } from '../../bench/cli/option-doc';
import { lookupOption } from '../../bench/cli/options';
import { PhyrError } from '../../lib/errors';

const norm = (n: string) => n.replace(/-/g, '_');

/** The option names of a row as written: the name and its aliases, each in backticks. */
const rowNames = (name: string) => [...name.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** What the parser does with a name: 'takes' it, or the refusal's code. */
function parserVerdict(name: string): string {
  try {
    lookupOption(name);
    return 'takes';
  } catch (e) {
    return e instanceof PhyrError ? e.code : `threw ${String(e)}`;
  }
}

t.test('no row claims an option the parser does not take, none refuses one it takes', async (t) => {
  for (const r of optionTableRows()) {
    const claims = r.treatment === 'refused' ? 'PHYR_BENCH_UNSUPPORTED_OPTION' : 'takes';
    for (const n of rowNames(r.name)) t.equal(parserVerdict(n), claims, `${n}: the table says ${r.treatment}`);
  }
});

t.test('every option fio 3.33 lists has a row in the table', async (t) => {
  const r = spawnSync('fio', ['--cmdhelp=all'], { encoding: 'utf8' });
  t.equal(r.error, undefined, 'fio runs (Debian\'s fio package)');
  // A name as long as fio's column is followed by ':' with no space (log_alternate_epoch_clock_id).
  const names = [...new Set([...(r.stdout + r.stderr).matchAll(/^\s*([a-z0-9_-]+)\s*:/gm)].map((m) => norm(m[1])))];
  t.ok(names.length > 150, `fio lists ${names.length} options`);
  const treatment = new Map<string, string>();
  for (const row of optionTableRows()) for (const n of rowNames(row.name)) treatment.set(norm(n), row.treatment);
  t.same(names.filter((n) => !treatment.has(n)), [], 'no fio option is missing from the table');
  const kinds = ['supported', 'replaced', 'fio\'s default', 'refused'];
  const count = (k: string) => names.filter((n) => treatment.get(n)?.startsWith(k)).length;
  t.equal(kinds.reduce((a, k) => a + count(k), 0), names.length, 'every row is one of the four treatments');
  t.comment(`fio 3.33 lists ${names.length} options: ${count('supported')} supported, ${count('replaced')} replaced with a notice, ${count('fio\'s default')} at fio's default only, ${count('refused')} refused`);
  // docs/BENCH.md states these figures in prose: they must be the measured ones.
  const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'BENCH.md'), 'utf8').replace(/\s+/g, ' ');
  t.ok(doc.includes(`${names.length} options fio 3.33 lists, ${count('supported')} are supported, ${count('replaced')} replaced with a notice, ${count('fio\'s default')} accepted at fio's default only and ${count('refused')} refused`), 'docs/BENCH.md states the same figures');
});
