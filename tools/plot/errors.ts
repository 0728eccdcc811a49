// The one error `phyr plot` raises for bad input: the command line prints its message and
// exits 2 (a usage error, see isUsageError in tools/phyr.ts), without a stack trace.
import { PhyrError } from '../../lib/errors';

/** Error code of every refused plot input or option. */
export const PLOT_USAGE = 'PHYR_PLOT_USAGE';

/** A refused input or option; the message names the file (and line) and what to do. */
export class PlotInputError extends PhyrError {
  constructor(message: string) {
    super(PLOT_USAGE, message);
  }
}
