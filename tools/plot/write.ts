// Writing a page: whole or not at all, so a failed write never leaves half a page behind.
import * as fs from 'fs';
import * as path from 'path';
import { PhyrError } from '../../lib/errors';

/** Writes `text` to `file` whole: a temporary file in the same directory, then rename. */
export function writeAtomically(file: string, text: string): void {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      // Not created, or not ours to remove (a directory of that name): the error says why.
    }
    throw new PhyrError('PHYR_PLOT_WRITE', `-o '${file}': the page could not be written (${(err as Error).message}); nothing was replaced`);
  }
}
