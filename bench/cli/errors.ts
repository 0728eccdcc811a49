// Errors of the benchmark's configuration: every one names the option and the value and
// says what is accepted, and is raised before any IO is issued.
import { PhyrError } from '../../lib/errors';

/** A bad value for a known option. */
export class BenchOptionError extends PhyrError {
  /** The option's name as written. */
  readonly option: string;
  constructor(option: string, value: string, why: string) {
    super('PHYR_BENCH_BAD_OPTION', `--${option}=${value}: ${why}`);
    this.option = option;
  }
}

/** A configuration that cannot run: unknown or unsupported option, impossible combination. */
export class BenchConfigError extends PhyrError {
  constructor(message: string, code = 'PHYR_BENCH_BAD_CONFIG') {
    super(code, message);
  }
}
