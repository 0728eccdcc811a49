// `phyr list`: the NVMe controllers on the PCI bus and whether phyr can use them.
import { parseArgs } from 'node:util';
import { listControllerStatus } from '../../lib/sysfs/controllers';
import { detectBackend } from '../../lib/vfio/backend';

export const summary = 'list NVMe controllers: address, ids, model, driver, IOMMU group, usable by phyr';

const HELP = `usage: phyr list [--json]

Lists every NVMe controller on the PCI bus with its address, vendor:device, model and serial
(readable while the kernel nvme driver has it), bound driver, IOMMU group, and whether phyr
can open it now — and if not, why and what to run.

options:
  --json        machine-readable output
  -h, --help    this help`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const controllers = listControllerStatus();
  const backend = detectBackend();
  if (values.json) {
    console.log(JSON.stringify({ backend, controllers }, null, 2));
    return 0;
  }
  if (!controllers.length) {
    console.log('no NVMe controllers on the PCI bus');
    console.log(`VFIO: ${backend.summary}`);
    return 0;
  }
  const rows = controllers.map((c) => [
    c.bdf,
    c.id,
    c.model ?? '-',
    c.serial ?? '-',
    c.driver ?? '-',
    c.iommuGroup === null ? '-' : String(c.iommuGroup),
    c.usable ? 'yes' : `no: ${c.reason}`,
  ]);
  const head = ['ADDRESS', 'ID', 'MODEL', 'SERIAL', 'DRIVER', 'GROUP', 'USABLE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log(`VFIO: ${backend.summary}`);
  return 0;
}
