// The one error `phyr compare` raises for a wrong command line or an unusable input: the
// CLI maps its *_USAGE code to exit status 2, apart from a broken threshold (status 1).
import { PhyrError } from '../../lib/errors';

/** A malformed threshold, an unreadable or non-fio input, or a metric an input lacks. */
export class CompareUsageError extends PhyrError {
  constructor(message: string) {
    super('PHYR_COMPARE_USAGE', message);
  }
}
