// `phyr identify TARGET [--ns N] [--json]`: Identify Controller (or Namespace) data,
// printed like nvme-cli's id-ctrl / id-ns, with the same field names in JSON.
import { open } from '../../targets/open';
import { formatIdentifyController, formatIdentifyNamespace } from '../../drivers/nvme';
import { PhyrError } from '../../lib/errors';
import { DEFAULT_TARGET } from '../../targets';
import { checkTarget } from '../../targets/check';
import { type CommandIo, consoleIo, parseTargetCommand } from '../command-args';

export const summary = 'print Identify Controller / Namespace data like nvme-cli (text or JSON)';

const HELP = `usage: phyr identify [TARGET] [--ns N] [--json]

Brings up the controller at TARGET (default: ${DEFAULT_TARGET}) and prints its Identify
Controller data like \`nvme id-ctrl\`, or with --ns the Identify Namespace data of
namespace N like \`nvme id-ns\`. Field names are nvme-cli's, in text and in JSON.

TARGET      emu[:key=value,...] (the embedded controller) or a PCI address bound to vfio-pci

options:
  --ns N      print namespace N instead of the controller
  --json      JSON output (the objects \`nvme id-ctrl -o json\` / \`nvme id-ns -o json\` print)
  --help      this text`;

/** Output sink (tests pass their own). */
export type IdentifyIo = CommandIo;

export async function run(argv: string[], io: IdentifyIo = consoleIo): Promise<number> {
  const parsed = parseTargetCommand('identify', argv, { ns: { type: 'string' }, json: { type: 'boolean' } } as const, HELP, io);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  let nsid: number | undefined;
  if (values.ns !== undefined) {
    nsid = Number(values.ns);
    if (!/^\d+$/.test(values.ns) || !Number.isInteger(nsid) || nsid < 1 || nsid > 0xfffffffe) {
      io.err(`phyr identify: --ns needs a namespace id in 1..4294967294, got '${values.ns}'`);
      return 2;
    }
  }
  const target = positionals[0] ?? DEFAULT_TARGET;
  try {
    // A malformed target is a usage error, found before anything is opened.
    checkTarget(target);
  } catch (e) {
    io.err(`phyr identify: ${(e as Error).message}`);
    return 2;
  }
  let ctrl;
  try {
    ctrl = await open(target);
  } catch (e) {
    io.err(`phyr identify: ${(e as Error).message}`);
    return e instanceof PhyrError ? 1 : 3;
  }
  try {
    if (nsid === undefined) {
      io.out(values.json ? JSON.stringify(ctrl.identify, null, 2) : formatIdentifyController(ctrl.identify));
    } else {
      const ns = ctrl.namespace(nsid);
      io.out(values.json ? JSON.stringify(ns.identify, null, 2) : formatIdentifyNamespace(nsid, ns.identify));
    }
    return 0;
  } catch (e) {
    io.err(`phyr identify: ${(e as Error).message}`);
    return 1;
  } finally {
    await ctrl.close();
  }
}
