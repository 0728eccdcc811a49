// fio's significant_figures: how many digits the normal output's IOPS, bandwidth and byte
// counts keep (num2str.ts has fio's rule). The JSON and terse outputs are unaffected, as
// in fio.
import { BenchOptionError } from './errors';
import type { JobSpec } from './job';
import { SIGNIFICANT_FIGURES } from './num2str';
import type { PacingOption } from './options-pacing';
import { parseInteger } from './units';

/** The option table's rows for output formatting (spread into OPTIONS). */
export const OUTPUT_FORMAT_OPTIONS: PacingOption[] = [
  {
    name: 'significant_figures', scope: 'job',
    help: 'digits of the normal output\'s IOPS, bandwidth and sizes, 1 to 10 (default 4), as fio: 16 MiB is 16.0MiB at 4, 16MiB at 3, 16384KiB at 5',
    applyJob: (j: JobSpec, v) => {
      if (v === undefined || v === '') throw new BenchOptionError('significant_figures', '', 'a value is required: 1 to 10');
      j.significantFigures = parseInteger('significant_figures', v, SIGNIFICANT_FIGURES.min, SIGNIFICANT_FIGURES.max);
    },
  },
];
