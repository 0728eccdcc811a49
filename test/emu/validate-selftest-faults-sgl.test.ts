// Self-test of phyr validate, a fault per case (the SGL and CMB cases, on emu:sgl=on and
// emu:cmb=1M, and the register cases): the fault breaks exactly one case's rule, and
// only that case fails.
import t from 'tap';
import { expectOnlyItFails, provingFaults } from '../helpers/validate-selftest-faults';

for (const p of provingFaults('sgl')) t.test(`${p.id} fails alone on ${p.target}`, (t) => expectOnlyItFails(t, p));
