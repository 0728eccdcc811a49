// Self-test of phyr validate, a fault per case (dptr, integrity, errors suites): the
// embedded controller with a fault that breaks exactly one case's rule makes that case
// fail and no other (the table: test/helpers/validate-selftest-faults.ts). The SGL and
// CMB configurations are in validate-selftest-faults-sgl.test.ts.
import t from 'tap';
import { expectOnlyItFails, provingFaults } from '../helpers/validate-selftest-faults';

const mine = provingFaults('dptr.', 'integrity.', 'errors.', 'registers.', 'p2p.').filter((p) => !/^dptr\.(sgl|cmb)\./.test(p.id));
for (const p of mine) t.test(`${p.id} fails alone on ${p.target}`, (t) => expectOnlyItFails(t, p));
