// fio's bs_is_seq_rand: bs=R,W (and bsrange/bssplit's per-direction values) mean the
// size of sequential IOs and the size of random ones, whatever their direction, instead of
// the read and the write size (fio 3.33 io_u.c, get_next_buflen: the direction the size is
// looked up by becomes "write" for a random IO and "read" for a sequential one).
import { BenchConfigError } from './errors';
import { modeTraits, type JobSpec } from './job';
import { parseBool } from './units';

/** The option's row (spread into OPTIONS). */
export const BS_SEQ_RAND_OPTION = {
  name: 'bs_is_seq_rand',
  scope: 'job' as const,
  flag: true,
  help: 'bs=R,W is the size of sequential IOs, then of random ones (any direction), instead of reads, then writes',
  applyJob: (j: JobSpec, v: string | undefined): void => {
    j.bsIsSeqRand = parseBool('bs_is_seq_rand', v);
  },
};

/**
 * Gives every direction the size its IOs' kind says, once the job's options are all read
 * (bs= may come before or after bs_is_seq_rand and rw=). A job whose IOs are all sequential
 * takes the first size, all random the second; a mix of the two (percentage_random between
 * 1 and 99, rw=randMODE:N) is refused: phyr draws an IO's size before its offset.
 */
export function applySeqRandBs(j: JobSpec): void {
  if (!j.bsIsSeqRand) return;
  const random = modeTraits(j.rw).random;
  if (random && ((j.percentageRandom > 0 && j.percentageRandom < 100) || j.randomEvery > 1)) {
    const what = j.randomEvery > 1 ? `rw=${j.rw}:${j.randomEvery}` : `percentage_random=${j.percentageRandom}`;
    throw new BenchConfigError(`job '${j.name}': bs_is_seq_rand=1 with ${what} is not supported: its IOs mix sequential and random offsets and phyr picks an IO's size before its offset; give one block size, or drop bs_is_seq_rand`);
  }
  const size = random && j.percentageRandom > 0 ? j.bs.write : j.bs.read;
  j.bs = { read: size, write: size, ...(j.bs.trim ? { trim: size } : {}) };
}
