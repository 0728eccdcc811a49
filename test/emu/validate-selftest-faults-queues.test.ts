// Self-test of phyr validate, a fault per case (admin suite: queue creation and deletion,
// log pages, Abort, Format NVM): the fault breaks exactly one case's rule, and only that
// case fails (the table: test/helpers/validate-selftest-faults.ts).
import t from 'tap';
import { expectOnlyItFails, provingFaults } from '../helpers/validate-selftest-faults';

for (const p of provingFaults('queues')) t.test(`${p.id} fails alone on ${p.target}`, (t) => expectOnlyItFails(t, p));
