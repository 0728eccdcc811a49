// Error codes that mean "the command line is wrong" (exit status 2), whichever layer raised
// them: a malformed target, an unknown namespace named on the command line, a bad option.
const USAGE_CODES = new Set(['PHYR_BAD_TARGET', 'PHYR_NO_TARGET', 'PHYR_BAD_EMU_TARGET', 'PHYR_UNKNOWN_NAMESPACE', 'PHYR_INVALID_ARGUMENT']);

export function isUsageErrorCode(code: unknown): boolean {
  return typeof code === 'string' && (code.endsWith('_USAGE') || USAGE_CODES.has(code));
}
