// phyr validate on the embedded controller, PRP only (sgl=off), 512-byte blocks: every
// suite passes; without --destructive the writing cases are skipped, not run.
import t from 'tap';
import { expectFullPass, validateEmu, validateEmuRefused } from '../helpers/validate-emu';

t.test('every suite passes: emu PRP only', async (t) => {
  await expectFullPass(t, 'emu:backend=ram,size=64M,sgl=off');
});

t.test('without --destructive the integrity suite is skipped, not run', async (t) => {
  const r = await validateEmu(['emu:backend=ram,size=16M', '--suite', 'integrity']);
  t.equal(r.code, 0);
  const writing = r.report.cases.filter((c) => c.destructive);
  t.ok(writing.length >= 5, `${writing.length} destructive cases`);
  for (const c of writing) t.match(c.outcome, { status: 'skipped', reason: /--destructive/ }, c.id);
  for (const c of r.report.cases.filter((x) => !x.destructive)) t.not(c.outcome.status, 'fail', `${c.id} (non-destructive) ran`);
  t.match(r.out, /destructive case\(s\) skipped: add --destructive/);
});

t.test('a target that cannot be opened is a usage error naming the key', async (t) => {
  const r = await validateEmuRefused(['emu:bogus=1']);
  t.equal(r.code, 2, 'exit status 2 (usage)');
  t.match(r.out, /bogus/);
});
