// Moving a PCI device between drivers through sysfs, the way the kernel documents it for
// vfio-pci: set driver_override, unbind from the current driver, ask the bus to probe.
// Actions are planned first, so `--dry-run` prints exactly what would be done.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { PhyrError } from '../errors';
import { readPciDevice, type PciDevice } from './pci';
import { sysPath } from './root';

/** One step: a sysfs write or a module load. */
export type BindAction = { kind: 'write'; path: string; value: string; why: string } | { kind: 'modprobe'; module: string; why: string };

const driverLoaded = (name: string): boolean => fs.existsSync(sysPath('bus', 'pci', 'drivers', name));

/** The steps that hand `dev` to `driver` ('vfio-pci' or 'nvme'). */
export function planBind(dev: PciDevice, driver: 'vfio-pci' | 'nvme'): BindAction[] {
  const steps: BindAction[] = [];
  const devDir = sysPath('bus', 'pci', 'devices', dev.bdf);
  if (!driverLoaded(driver)) steps.push({ kind: 'modprobe', module: driver, why: `load the ${driver} driver` });
  // vfio-pci: override so only vfio-pci may claim it; nvme: clear the override.
  steps.push({
    kind: 'write',
    path: `${devDir}/driver_override`,
    value: driver === 'vfio-pci' ? 'vfio-pci' : '\n',
    why: driver === 'vfio-pci' ? 'let only vfio-pci claim the device' : 'clear driver_override',
  });
  if (dev.driver) steps.push({ kind: 'write', path: `${devDir}/driver/unbind`, value: dev.bdf, why: `unbind from ${dev.driver}` });
  steps.push({ kind: 'write', path: sysPath('bus', 'pci', 'drivers_probe'), value: dev.bdf, why: `probe: ${driver} takes it` });
  return steps;
}

/** One line per step, as `--dry-run` prints them. */
export function describeAction(a: BindAction): string {
  return a.kind === 'modprobe' ? `modprobe ${a.module}    # ${a.why}` : `echo ${JSON.stringify(a.value.trim())} > ${a.path}    # ${a.why}`;
}

/** Runs the steps; throws naming the step that failed. */
export function applyActions(actions: BindAction[]): void {
  for (const a of actions) {
    if (a.kind === 'modprobe') {
      const r = spawnSync('modprobe', [a.module], { encoding: 'utf8' });
      if (r.status !== 0) throw new PhyrError('PHYR_SETUP_MODPROBE', `modprobe ${a.module} failed: ${(r.stderr || r.error?.message || '').trim()} (is it root?)`);
      continue;
    }
    try {
      fs.writeFileSync(a.path, a.value);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new PhyrError('PHYR_SETUP_WRITE', `cannot ${a.why} (${code} writing ${a.path})${code === 'EACCES' || code === 'EPERM' ? ': run as root' : ''}`);
    }
  }
}

/** After applying: the driver the device ended up with (null = none). */
export function currentDriver(bdf: string): string | null {
  return readPciDevice(bdf)?.driver ?? null;
}
