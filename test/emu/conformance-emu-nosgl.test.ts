// Every raw conformance case on the embedded controller configured as emu:mdts=0,size=16M
// (arena memory): each passes, comparing status codes exactly (SCT, SC, DNR); cases
// for a feature this configuration lacks answer not-applicable.
import t from 'tap';
import { runAllCasesOnEmu } from '../../conformance/emu-suite';

t.test('every case on emu:mdts=0,size=16M', async (t) => {
  for (const r of await runAllCasesOnEmu('emu:mdts=0,size=16M', 'arena')) {
    t.same(r.outcome.status, r.lacksFeature ? 'not-applicable' : 'pass', `${r.id}: ${JSON.stringify(r.outcome)}`);
  }
});
