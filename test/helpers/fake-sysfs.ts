// A fake /sys, /proc and /dev tree for the sysfs and VFIO unit tests (PHYR_SYSFS_ROOT).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A PCI device to create in the fake tree. */
export interface FakePci {
  bdf: string;
  vendor?: number;
  device?: number;
  classCode?: number;
  driver?: string;
  group?: number;
  /** sysfs `resource` lines. */
  resources?: string[];
}

/** A temporary root with helpers; `use()` points PHYR_SYSFS_ROOT at it until `restore()`. */
export class FakeRoot {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fakesys-'));
  private saved: string | undefined;

  file(rel: string, text: string): this {
    const p = path.join(this.root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return this;
  }

  link(rel: string, target: string): this {
    const p = path.join(this.root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.symlinkSync(target, p);
    return this;
  }

  dir(rel: string): this {
    fs.mkdirSync(path.join(this.root, rel), { recursive: true });
    return this;
  }

  pci(d: FakePci): this {
    const base = `sys/bus/pci/devices/${d.bdf}`;
    this.file(`${base}/vendor`, `0x${(d.vendor ?? 0x1b36).toString(16).padStart(4, '0')}\n`);
    this.file(`${base}/device`, `0x${(d.device ?? 0x0010).toString(16).padStart(4, '0')}\n`);
    this.file(`${base}/class`, `0x${(d.classCode ?? 0x010802).toString(16).padStart(6, '0')}\n`);
    this.file(`${base}/driver_override`, '(null)\n');
    this.file(`${base}/resource`, (d.resources ?? ['0x00000000fe000000 0x00000000fe003fff 0x0000000000140204']).join('\n') + '\n');
    if (d.driver) this.link(`${base}/driver`, `../../drivers/${d.driver}`);
    if (d.group !== undefined) {
      this.link(`${base}/iommu_group`, `../../../../kernel/iommu_groups/${d.group}`);
      this.file(`sys/kernel/iommu_groups/${d.group}/devices/${d.bdf}`, '');
    }
    return this;
  }

  use(): this {
    this.saved = process.env.PHYR_SYSFS_ROOT;
    process.env.PHYR_SYSFS_ROOT = this.root;
    return this;
  }

  restore(): void {
    if (this.saved === undefined) delete process.env.PHYR_SYSFS_ROOT;
    else process.env.PHYR_SYSFS_ROOT = this.saved;
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
