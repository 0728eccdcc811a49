// The confirmation before a destructive run: it names the device by model and serial so
// the person at the keyboard knows which drive is about to be overwritten. Without a
// terminal there is nobody to ask, so the run is refused unless --yes was given.
import * as readline from 'readline';
import type { DeviceIdentity } from './types';

/** Where the question is asked. */
export interface PromptIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** True when input is an interactive terminal. */
  isTTY: boolean;
}

/** The answer: go ahead, or why not. */
export type Confirmation = { ok: true } | { ok: false; reason: string };

/** The sentence naming what will be overwritten. */
export function destructiveWarning(device: DeviceIdentity, nsid: number): string {
  return (
    `--destructive WRITES over namespace ${nsid} of ${device.model || 'an unnamed controller'} ` +
    `(serial ${device.serial || 'unknown'}, firmware ${device.firmware || 'unknown'}) at ${device.target}: ` +
    'every block the integrity suite touches loses its data.'
  );
}

/** Asks for confirmation unless `yes`; refuses when there is no terminal to ask on. */
export async function confirmDestructive(device: DeviceIdentity, nsid: number, yes: boolean, io: PromptIo): Promise<Confirmation> {
  if (yes) return { ok: true };
  if (!io.isTTY) {
    return { ok: false, reason: `${destructiveWarning(device, nsid)} There is no terminal to confirm on: add --yes to run without asking.` };
  }
  const rl = readline.createInterface({ input: io.input, output: io.output, terminal: false });
  try {
    const answer = await new Promise<string | undefined>((resolve) => {
      rl.once('close', () => resolve(undefined));
      rl.question(`${destructiveWarning(device, nsid)}\nType "yes" to continue: `, resolve);
    });
    if (answer?.trim().toLowerCase() === 'yes') return { ok: true };
    return { ok: false, reason: `not confirmed (answer ${answer === undefined ? 'missing' : JSON.stringify(answer.trim())}); nothing was written` };
  } finally {
    rl.close();
  }
}
