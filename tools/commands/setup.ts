// `phyr setup`: hugepages, and moving NVMe controllers between the kernel nvme driver and
// vfio-pci. It refuses to take a controller whose namespaces are mounted, swapped on,
// held by md/dm/LVM or open by any process, unless --force: unbinding a disk in use loses
// its users' data.
import * as fs from 'fs';
import { parseArgs } from 'node:util';
import { PhyrError } from '../../lib/errors';
import { readHugepageStatus, setReservedHugepages } from '../../lib/dma/hugepages';
import { normaliseBdf, targetKind } from '../../targets';
import { applyActions, currentDriver, describeAction, planBind, type BindAction } from '../../lib/sysfs/bind';
import { listControllerStatus } from '../../lib/sysfs/controllers';
import { listNvmeControllers, readPciDevice, NVME_CLASS, type PciDevice } from '../../lib/sysfs/pci';
import { controllerUses, describeUses } from '../../lib/sysfs/usage';
import { detectBackend } from '../../lib/vfio/backend';

export const summary = 'prepare the machine: hugepages, bind controllers to vfio-pci (or back to nvme), status';

const HELP = `usage: phyr setup [--hugepages N] [--bind BDF|all] [--reset [BDF|all]] [--status] [--dry-run] [--force]

options:
  --hugepages N    reserve N 2 MiB hugepages (/proc/sys/vm/nr_hugepages)
  --bind BDF|all   give NVMe controllers to vfio-pci (driver_override, unbind, probe);
                   repeatable. Refuses a controller any of whose namespaces is mounted, used
                   as swap, held by md/dm/LVM, or open by a process, unless --force.
  --reset [BDF|all]  give controllers back to the kernel nvme driver (default: all bound to vfio-pci)
  --status         VFIO backend, IOMMU, hugepages, and every controller's state
  --dry-run        print the steps, change nothing
  --force          take controllers even when in use (their filesystems will break)
  -h, --help       this help

Needs root for every change.`;

type Log = (line: string) => void;

// MemTotal in 2 MiB pages (a generous ceiling when /proc/meminfo cannot be read).
function maxHugepages(): number {
  try {
    const m = /^MemTotal:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Math.floor(Number(m[1]) / 2048);
  } catch {
    // fall through
  }
  return 2 ** 24;
}

function resolveTargets(spec: string[], filter: (d: PciDevice) => boolean): PciDevice[] {
  if (spec.includes('all')) return listNvmeControllers().filter(filter);
  return spec.map((s) => {
    if (targetKind(s) !== 'vfio') throw new PhyrError('PHYR_SETUP_USAGE', `'${s}' is not a PCI address`);
    const bdf = normaliseBdf(s);
    const d = readPciDevice(bdf);
    if (!d) throw new PhyrError('PHYR_SETUP_NO_DEVICE', `there is no PCI device ${bdf}: see \`phyr list\``);
    if (d.classCode !== NVME_CLASS) throw new PhyrError('PHYR_SETUP_NOT_NVME', `${bdf} is not an NVMe controller (class 0x${d.classCode.toString(16)}); phyr setup only moves NVMe controllers`);
    return d;
  });
}

/** Binds each target to vfio-pci; returns the number refused or failed. */
export function bindToVfio(targets: PciDevice[], opts: { dryRun: boolean; force: boolean }, log: Log): number {
  let refused = 0;
  for (const dev of targets) {
    if (dev.driver === 'vfio-pci') {
      log(`${dev.bdf}: already bound to vfio-pci`);
      continue;
    }
    const uses = dev.driver === 'nvme' ? controllerUses(dev.bdf) : [];
    if (uses.length && !opts.force) {
      log(`${dev.bdf}: refusing to unbind it from ${dev.driver}: ${describeUses(uses)}. Unmount/stop using it first, or pass --force to take it anyway (its data users will break)`);
      refused++;
      continue;
    }
    if (uses.length) log(`${dev.bdf}: --force: taking it although ${describeUses(uses)}`);
    refused += move(dev, 'vfio-pci', opts.dryRun, log);
  }
  return refused;
}

function move(dev: PciDevice, driver: 'vfio-pci' | 'nvme', dryRun: boolean, log: Log): number {
  const plan: BindAction[] = planBind(dev, driver);
  if (dryRun) {
    log(`${dev.bdf}: would run:`);
    for (const a of plan) log(`  ${describeAction(a)}`);
    return 0;
  }
  applyActions(plan);
  const now = currentDriver(dev.bdf);
  if (now !== driver) {
    log(`${dev.bdf}: after probing it is bound to ${now ?? 'no driver'}, not ${driver} (see dmesg)`);
    return 1;
  }
  log(`${dev.bdf}: bound to ${driver}${driver === 'vfio-pci' && dev.iommuGroup !== null ? ` (/dev/vfio/${dev.iommuGroup})` : ''}`);
  return 0;
}

function status(log: Log): void {
  const b = detectBackend();
  log(`VFIO:       ${b.summary}`);
  const h = readHugepageStatus();
  log(`hugepages:  ${h.total} reserved, ${h.free} free (${h.pageSize / 1024} KiB each)`);
  const all = listControllerStatus();
  if (!all.length) log('NVMe:       no controllers on the PCI bus');
  for (const c of all) {
    log(`${c.bdf}  ${c.driver ?? 'no driver'}  group ${c.iommuGroup ?? '-'}  ${c.usable ? 'usable by phyr' : `not usable: ${c.reason}`}`);
  }
}

export async function run(argv: string[], log: Log = (l) => console.log(l)): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      hugepages: { type: 'string' },
      bind: { type: 'string', multiple: true },
      reset: { type: 'boolean' },
      status: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    log(HELP);
    return 0;
  }
  if (positionals.length && !values.reset) throw new PhyrError('PHYR_SETUP_USAGE', `unexpected argument '${positionals[0]}' (see phyr setup --help)`);
  const dryRun = values['dry-run'] ?? false;
  if (values.hugepages === undefined && !values.bind && !values.reset && !values.status) {
    log(HELP);
    return 2;
  }
  let failures = 0;
  // Every argument is checked before anything changes.
  let n = 0;
  if (values.hugepages !== undefined) {
    n = Number(values.hugepages);
    if (!/^\d+$/.test(values.hugepages)) throw new PhyrError('PHYR_SETUP_USAGE', `--hugepages '${values.hugepages}' must be a non-negative integer`);
    // More 2 MiB pages than the machine has memory would make the kernel reclaim
    // everything it can before giving up: refuse it.
    const most = maxHugepages();
    if (n > most) throw new PhyrError('PHYR_SETUP_USAGE', `--hugepages ${values.hugepages} is more than this machine's memory holds (${most} pages of 2 MiB)`);
  }
  const bindTargets = values.bind ? resolveTargets(values.bind, () => true) : undefined;
  const resetTargets = values.reset ? resolveTargets(positionals.length ? positionals : ['all'], (d) => d.driver === 'vfio-pci') : undefined;
  if (values.hugepages !== undefined) {
    if (dryRun) log(`would run: echo ${n} > /proc/sys/vm/nr_hugepages`);
    else {
      const got = setReservedHugepages(n);
      log(`hugepages: ${got} reserved${got < n ? ` (asked for ${n}: memory is fragmented or short)` : ''}`);
      if (got < n) failures++;
    }
  }
  if (bindTargets) failures += bindToVfio(bindTargets, { dryRun, force: values.force ?? false }, log);
  if (resetTargets) {
    const targets = resetTargets;
    if (!targets.length) log('no controllers bound to vfio-pci');
    for (const dev of targets) failures += move(dev, 'nvme', dryRun, log);
  }
  if (values.status) status(log);
  return failures ? 1 : 0;
}
