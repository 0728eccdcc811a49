// Self-test of phyr validate, a fault per case (dptr, integrity, errors suites): the
// embedded controller with a fault that breaks exactly one case's rule makes that case
// fail and no other (the table: test/helpers/validate-selftest-faults.ts). The SGL and
// CMB configurations are in validate-selftest-faults-sgl.test.ts.
import t from 'tap';
import { expectOnlyItFails, provingFaults } from '../helpers/validate-selftest-faults';

for (const p of provingFaults('io')) t.test(`${p.id} fails alone on ${p.target}`, (t) => expectOnlyItFails(t, p));
