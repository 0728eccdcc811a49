// Every raw conformance case on the embedded controller configured as emu:mdts=5,queues=4,cmb=1M,sgl=on
// (arena memory): each passes, comparing status codes exactly (SCT, SC, DNR); cases
// for a feature this configuration lacks answer not-applicable.
import t from 'tap';
import { runAllCasesOnEmu } from '../../conformance/emu-suite';

t.test('every case on emu:mdts=5,queues=4,cmb=1M,sgl=on', async (t) => {
  for (const r of await runAllCasesOnEmu('emu:mdts=5,queues=4,cmb=1M,sgl=on', 'arena')) {
    t.same(r.outcome.status, r.lacksFeature ? 'not-applicable' : 'pass', `${r.id}: ${JSON.stringify(r.outcome)}`);
  }
});

// The CMBSZ bits inverted (cmbsz=cqs): the use cases cannot apply, the refusal cases run.
t.test('every case on emu:mdts=5,queues=4,cmb=1M,cmbsz=cqs', async (t) => {
  for (const r of await runAllCasesOnEmu('emu:mdts=5,queues=4,cmb=1M,cmbsz=cqs', 'arena')) {
    t.same(r.outcome.status, r.lacksFeature ? 'not-applicable' : 'pass', `${r.id}: ${JSON.stringify(r.outcome)}`);
  }
});
