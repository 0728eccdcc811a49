// Self-test of phyr validate, a fault per case (admin suite): the embedded controller with
// a fault that breaks exactly one case's rule makes that case fail and no other. Also
// prints how many cases of the catalogue have such a fault, and which have none yet.
import t from 'tap';
import { defaultRegistry } from '../../tools/validate/catalog';
import { GROUPS, PROVING_FAULTS, expectOnlyItFails, provingFaults } from '../helpers/validate-selftest-faults';

t.test('the table names real cases, once each', async (t) => {
  const all = defaultRegistry().all().map((c) => c.id);
  const proved = new Set(PROVING_FAULTS.map((p) => p.id));
  t.equal(proved.size, PROVING_FAULTS.length, 'one fault per case');
  const groups = Object.keys(GROUPS) as (keyof typeof GROUPS)[];
  t.same(groups.flatMap((g) => provingFaults(g).map((p) => p.id)).sort(), [...proved].sort(), 'every fault runs in exactly one self-test file');
  for (const id of proved) t.ok(all.includes(id), `${id} is in the catalogue`);
  const without = all.filter((id) => !proved.has(id));
  t.comment(`cases with a proving fault / all cases: ${proved.size} / ${all.length}`);
  t.comment(`cases without a proving fault yet: ${without.join(', ')}`);
});

for (const p of provingFaults('admin')) t.test(`${p.id} fails alone on ${p.target}`, (t) => expectOnlyItFails(t, p));
