// `phyr list`: the NVMe controllers on the PCI bus and whether phyr can use them, with the
// model, serial and firmware each reports (read by the kernel driver's sysfs while it has
// the controller, and by bringing it up with phyr when it is bound to vfio-pci), and the
// embedded targets phyr can always open.
import { parseArgs } from 'node:util';
import { listControllerStatus, type ControllerStatus } from '../../lib/sysfs/controllers';
import { detectBackend } from '../../lib/vfio/backend';
import { DEFAULT_TARGET } from '../../targets';
import { readController, type ListedController } from '../nvme/controllers';

export const summary = 'list NVMe controllers: address, ids, model, serial, firmware, driver, IOMMU group, usable by phyr; and the embedded target';

const HELP = `usage: phyr list [--json]

Lists every NVMe controller on the PCI bus with its address, vendor:device, model, serial
and firmware revision (from the kernel nvme driver while it has the controller; phyr brings
up a usable vfio-bound controller to read its Identify data), bound driver, IOMMU group, and
whether phyr can open it now — and if not, why and what to run. The embedded controller
(target ${DEFAULT_TARGET}) is listed after them.

options:
  --json        machine-readable output
  -h, --help    this help`;

/** One PCI controller's row: its sysfs status plus what Identify Controller said (or why it could not be read). */
export interface ListRow extends ControllerStatus {
  firmware: string | null;
  /** Why phyr could not read the Identify data of a usable vfio-bound controller. */
  identifyError?: string;
}

/** Reads Identify Controller of the controllers phyr can open (vfio-bound, usable) whose model sysfs does not give. */
export async function withIdentify(controllers: readonly ControllerStatus[], read: (target: string) => Promise<ListedController> = readController): Promise<ListRow[]> {
  const rows: ListRow[] = [];
  for (const c of controllers) {
    const row: ListRow = { ...c, firmware: null };
    if (c.usable && c.driver === 'vfio-pci') {
      try {
        const id = await read(c.bdf);
        row.model = id.model;
        row.serial = id.serial;
        row.firmware = id.firmware;
      } catch (e) {
        row.identifyError = (e as Error).message;
      }
    }
    rows.push(row);
  }
  return rows;
}

/** The table lines for `rows` and the embedded controller. */
export function listTable(rows: readonly ListRow[], embedded: ListedController | undefined): string[] {
  const cells = rows.map((c) => [
    c.bdf,
    c.id,
    c.model ?? '-',
    c.serial ?? '-',
    c.firmware ?? '-',
    c.driver ?? '-',
    c.iommuGroup === null ? '-' : String(c.iommuGroup),
    c.usable ? (c.identifyError ? `yes (Identify failed: ${c.identifyError})` : 'yes') : `no: ${c.reason}`,
  ]);
  if (embedded) cells.push([embedded.target, '-', embedded.model, embedded.serial, embedded.firmware, '(embedded)', '-', 'yes']);
  const head = ['ADDRESS', 'ID', 'MODEL', 'SERIAL', 'FW', 'DRIVER', 'GROUP', 'USABLE'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return [line(head), ...cells.map(line)];
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const controllers = await withIdentify(listControllerStatus());
  const backend = detectBackend();
  let embedded: ListedController | undefined;
  let embeddedError: string | undefined;
  try {
    embedded = await readController(DEFAULT_TARGET);
  } catch (e) {
    embeddedError = (e as Error).message;
  }
  if (values.json) {
    console.log(JSON.stringify({ backend, controllers, embedded: embedded ? [embedded] : [], ...(embeddedError ? { embeddedError } : {}) }, null, 2));
    return 0;
  }
  if (!controllers.length) console.log('no NVMe controllers on the PCI bus');
  for (const l of listTable(controllers, embedded)) console.log(l);
  if (embeddedError) console.log(`embedded controller (${DEFAULT_TARGET}): cannot open: ${embeddedError}`);
  console.log(`VFIO: ${backend.summary}`);
  return 0;
}
