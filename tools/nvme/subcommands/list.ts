// list: the namespaces of every controller phyr can open, in nvme-cli's columns and JSON
// keys ("Devices": NameSpace, DevicePath, Firmware, ModelNumber, SerialNumber, UsedBytes,
// MaximumLBA, PhysicalSize, SectorSize). DevicePath is phyr's target string.
import { JcObject, jsonC } from '../json-c';
import { openableTargets, readControllers, type ListedController } from '../controllers';
import type { NvmeIo } from '../device';
import type { OutputFormat } from '../args';

// nvme-cli's SI size: value and unit, 1000-based.
function si(bytes: number): [string, string] {
  const units = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return [v.toFixed(2), units[i]];
}

/** `nvme list -o json`'s object for the listed controllers. */
export function listJson(ctrls: readonly ListedController[]): JcObject {
  const devices: JcObject[] = [];
  for (const c of ctrls) {
    for (const ns of c.namespaces) {
      devices.push(
        new JcObject()
          .add('NameSpace', ns.nsid)
          .add('DevicePath', c.target)
          .add('Firmware', c.firmware)
          .add('ModelNumber', c.model)
          .add('SerialNumber', c.serial)
          .add('UsedBytes', BigInt(ns.used) * BigInt(ns.lbaSize))
          .add('MaximumLBA', BigInt(ns.blocks))
          .add('PhysicalSize', BigInt(ns.blocks) * BigInt(ns.lbaSize))
          .add('SectorSize', ns.lbaSize),
      );
    }
  }
  return new JcObject().add('Devices', devices);
}

/** nvme-cli's `list` table. */
export function listText(ctrls: readonly ListedController[]): string {
  const dash = (n: number): string => '-'.repeat(n);
  const row = (c: string[]): string => [c[0].padEnd(21), c[1].padEnd(20), c[2].padEnd(40), c[3].padEnd(9), c[4].padEnd(26), c[5].padEnd(16), c[6]].join(' ');
  const lines = [row(['Node', 'SN', 'Model', 'Namespace', 'Usage', 'Format', 'FW Rev']), row([dash(21), dash(20), dash(40), dash(9), dash(26), dash(16), dash(8)])];
  for (const c of ctrls) {
    for (const ns of c.namespaces) {
      const [u, uu] = si(ns.used * ns.lbaSize);
      const [s, su] = si(ns.blocks * ns.lbaSize);
      const [l, lu] = si(ns.lbaSize);
      const usage = `${u.padStart(6)} ${uu.padStart(2)}B / ${s.padStart(6)} ${su.padStart(2)}B`;
      const fmt = `${Number(l).toFixed(0).padStart(3)} ${lu.padStart(2)}B + ${String(ns.metadataSize).padStart(2)} B`;
      lines.push(row([c.target, c.serial, c.model, String(ns.nsid), usage, fmt, c.firmware]));
    }
  }
  return lines.join('\n');
}

/** Runs `phyr nvme list`: controllers that fail to open are named on stderr (exit 1 when any did). */
export async function runList(io: NvmeIo, format: OutputFormat, targets: readonly string[] = openableTargets()): Promise<number> {
  const { read, failed } = await readControllers(targets);
  io.out(format === 'json' ? jsonC(listJson(read)) : listText(read));
  for (const f of failed) io.err(`${f.target}: ${f.error}`);
  return failed.length ? 1 : 0;
}
