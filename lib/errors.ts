// The base of every error phyr throws. `code` is stable and machine-readable; the message
// says what was wrong and what to do about it.

/** Base class of all phyr errors. */
export class PhyrError extends Error {
  /** Stable identifier, e.g. 'PHYR_BAD_ENTRY'. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}
