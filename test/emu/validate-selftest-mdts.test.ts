// Self-test of phyr validate: a correct embedded controller passes with 0 fail at every
// MDTS it supports from 0 (no limit) to 7 (2^7 pages); the cases size their commands
// within MDTS. The other configurations are in validate-selftest-configs.test.ts.
import t from 'tap';
import { expectNoFail } from '../helpers/validate-selftest';

for (const m of [0, 1, 2, 3, 4, 5, 6, 7]) {
  const target = `emu:size=16M,mdts=${m}${m % 2 ? ',lbads=12' : ''}`;
  t.test(`0 fail on ${target}`, (t) => expectNoFail(t, target));
}
