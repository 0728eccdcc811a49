// Every raw conformance case on the embedded controller configured as emu:lbads=12,size=64M,ns=2,backend=ram,sgl=dword
// (pool memory): each passes, comparing status codes exactly (SCT, SC, DNR); cases
// for a feature this configuration lacks answer not-applicable.
import t from 'tap';
import { runAllCasesOnEmu } from '../../conformance/emu-suite';

t.test('every case on emu:lbads=12,size=64M,ns=2,backend=ram,sgl=dword', async (t) => {
  for (const r of await runAllCasesOnEmu('emu:lbads=12,size=64M,ns=2,backend=ram,sgl=dword', 'pool')) {
    t.same(r.outcome.status, r.lacksFeature ? 'not-applicable' : 'pass', `${r.id}: ${JSON.stringify(r.outcome)}`);
  }
});
