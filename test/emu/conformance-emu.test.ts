// Runs every raw conformance case against the embedded controller: each must pass (the
// cases compare every status code exactly, SCT, SC and DNR).
import t from 'tap';
import { allCases } from '../../conformance';
import { runRawCase } from '../../conformance/runner';
import { EmuArena, openEmu } from '../../emu';

t.test('case ids are unique and every case says what and where', async (t) => {
  const ids = allCases.map((c) => c.id);
  t.equal(new Set(ids).size, ids.length);
  for (const c of allCases) {
    t.ok(c.purpose.length > 10, `${c.id} purpose`);
    t.match(c.spec, /§|PCI/, `${c.id} spec`);
  }
  t.ok(allCases.length >= 30);
});

t.test('a destructive case is skipped without --destructive', async (t) => {
  const c = allCases.find((x) => x.destructive);
  if (!c) throw new Error('no destructive case');
  const fn = openEmu();
  const arena = new EmuArena(fn);
  t.teardown(() => {
    arena.close();
    fn.close();
  });
  t.match(await runRawCase(c, fn, arena), { status: 'skipped' });
});

t.test('a case that throws is reported as a failure', async (t) => {
  const fn = openEmu();
  const arena = new EmuArena(fn);
  t.teardown(() => {
    arena.close();
    fn.close();
  });
  const outcome = await runRawCase(
    { id: 'x', suite: 'admin', purpose: 'throws on purpose', spec: '§0', run: async () => Promise.reject(new Error('boom')) },
    fn,
    arena,
  );
  t.match(outcome, { status: 'fail', received: /boom/ });
});
