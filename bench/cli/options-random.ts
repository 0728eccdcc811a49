// fio's random offset options. random_generator names fio's PRNG for offsets: tausworthe
// (the default), tausworthe64 or lfsr. phyr draws with its own generators, so the exact
// offset sequence is not fio's under any of the three; what each one promises is kept:
// lfsr visits every block exactly once per pass, with no random map, even under
// norandommap (fio: "guarantees never to generate the same offset twice"), which phyr's
// full-period permutation gives (bench/native/random.h). rw=randMODE:N takes a new random
// offset every N IOs; rw_sequencer says what the IOs between do (bench/native/engine.h).
import { BenchOptionError } from './errors';
import type { JobSpec, RandomGenerator } from './job';
import type { PacingOption } from './options-pacing';

const GENERATORS: readonly RandomGenerator[] = ['tausworthe', 'lfsr', 'tausworthe64'];

/**
 * The N of fio's rw=randMODE:N: a count of IOs, at least 1 (fio reads it with atoi, so
 * `4k` would silently be 4; phyr asks for the plain count).
 */
export function randomEvery(value: string, n: string): number {
  if (!/^\s*\d+\s*$/.test(n) || Number(n) < 1 || Number(n) > 0xffffffff) {
    throw new BenchOptionError('rw', value, 'in a random mode N is a count of IOs (a new random offset every N IOs), a whole number from 1 to 4294967295');
  }
  return Number(n);
}

/** The option table's rows for random offsets (spread into OPTIONS). */
export const RANDOM_OPTIONS: PacingOption[] = [
  {
    name: 'random_generator', scope: 'job',
    help: 'tausworthe (default), tausworthe64 or lfsr, as fio: phyr draws with its own generators (the offsets are not fio\'s sequence); lfsr visits every block exactly once per pass, even with norandommap',
    applyJob: (j: JobSpec, v) => {
      const g = GENERATORS.find((x) => x === v);
      if (!g) throw new BenchOptionError('random_generator', v ?? '', 'expected tausworthe, lfsr or tausworthe64');
      j.randomGenerator = g;
    },
  },
  {
    name: 'rw_sequencer', scope: 'job',
    help: 'with rw=randMODE:N, the N-1 IOs between two random offsets: sequential (default: each continues from the last; past the region\'s end the job ends, as fio) or identical (the same offset again); no effect on sequential modes, as fio',
    applyJob: (j: JobSpec, v) => {
      if (v !== 'sequential' && v !== 'identical') throw new BenchOptionError('rw_sequencer', v ?? '', 'expected sequential or identical');
      j.rwSequencer = v;
    },
  },
];
