// `phyr vm`: boots the QEMU testbed (real VFIO, QEMU's NVMe behind an emulated IOMMU) and
// runs one command inside it, returning its output and exit status.
import { parseArgs } from 'node:util';
import { PhyrError } from '../../lib/errors';
import { APT_INSTALL, parseNvmeSpec, runVm } from '../vm';

export const summary = 'boot a QEMU guest with NVMe controllers behind VFIO and run a command in it';

const HELP = `usage: phyr vm [options] -- COMMAND [ARG...]

Boots qemu-system-x86_64 (q35, intel-iommu with interrupt remapping and caching mode,
intel_iommu=on) with the host root shared read-only over 9p, binds every NVMe controller to
vfio-pci, reserves hugepages and runs COMMAND with the host's node from the current
directory. Prints COMMAND's output and exits with its status.

options:
  --nvme SPEC       add a controller (repeatable); SPEC is comma-separated key=value:
                      size=64M        bytes per namespace
                      ns=1            namespaces
                      lbads=9[:12..]  LBA size exponent per namespace (9 = 512 B, 12 = 4 KiB)
                      mdts=N          max data transfer, 2^N pages (QEMU default 7)
                      qpairs=N        max IO queue pairs
                      cmb=16M         controller memory buffer (power of two MiB)
                      backing=file|null  sparse file per namespace (default) or null device
                      file=PATH       existing image for namespace 1
                      driver=vfio-pci|nvme|none  what the guest binds it to (default vfio-pci)
                      hotplug         behind its own PCIe root port (can be unplugged)
                      NAME=VALUE      any further QEMU nvme property, passed through
                                      (e.g. msix_qsize=1; list: qemu-system-x86_64 -device nvme,help)
                    Controllers sit at 0000:00:10.0, 0000:00:11.0, ... in order.
  --kernel VERSION  boot /boot/vmlinuz-VERSION; a prefix such as 6.12 takes the newest
                    that matches (default: the newest in /boot the testbed can boot:
                    its modules installed, .ko, .ko.gz, .ko.xz or .ko.zst)
  --timeout S       limit for the whole run, boot included (default 600); QEMU is killed after
  --accel tcg|kvm   CPU emulation (default tcg; kvm hangs at boot on some hosts)
  --memory MIB      guest memory (default 2048)
  --cpus N          guest CPUs (default 2)
  --hugepages N     2 MiB hugepages reserved in the guest (default 64)
  -h, --help        this help

Needs: ${APT_INSTALL}`;

// Bounded so a typo cannot become a 30-year timer (setTimeout takes at most 2^31 - 1 ms)
// or a guest QEMU cannot allocate.
function positiveInt(text: string | undefined, what: string, fallback: number, max: number, min = 1): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new PhyrError('PHYR_VM_USAGE', `${what} '${text}' must be an integer from ${min} to ${max}`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      nvme: { type: 'string', multiple: true },
      timeout: { type: 'string' },
      accel: { type: 'string' },
      memory: { type: 'string' },
      cpus: { type: 'string' },
      hugepages: { type: 'string' },
      kernel: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (!positionals.length) {
    console.error(`phyr vm: no command given\n\n${HELP}`);
    return 2;
  }
  const accel = values.accel ?? 'tcg';
  if (accel !== 'tcg' && accel !== 'kvm') throw new PhyrError('PHYR_VM_USAGE', `--accel '${accel}' must be tcg or kvm`);
  const memoryMiB = positiveInt(values.memory, '--memory', 2048, 1 << 20, 128);
  // The guest's hugepages come out of its memory: at most half of it.
  const hugepages = positiveInt(values.hugepages, '--hugepages', 64, Math.floor(memoryMiB / 4), 0);
  // An empty --nvme would silently mean "a default controller": refuse it (the default is
  // one controller anyway when --nvme is absent).
  for (const spec of values.nvme ?? []) if (spec.trim() === '') throw new PhyrError('PHYR_VM_USAGE', "--nvme '' is empty: give key=value pairs such as size=64M,ns=2, or leave --nvme out");
  const options = {
    command: positionals,
    nvme: (values.nvme ?? []).map(parseNvmeSpec),
    timeoutSeconds: positiveInt(values.timeout, '--timeout', 600, 86_400),
    accel: accel as 'tcg' | 'kvm',
    memoryMiB,
    cpus: positiveInt(values.cpus, '--cpus', 2, 256),
    hugepages,
    kernelVersion: values.kernel,
    onNotice: (text: string) => console.error(`phyr vm: ${text}`),
  };
  if (values.kernel !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.+_~-]*$/.test(values.kernel)) throw new PhyrError('PHYR_VM_USAGE', `--kernel '${values.kernel}' is not a kernel version: give one from /boot/vmlinuz-VERSION, e.g. 6.12 or 6.1.0-57-amd64`);
  const result = await runVm(options);
  if (process.env.PHYR_VM_VERBOSE) console.error(`phyr vm: exit ${result.status} after ${result.seconds.toFixed(1)} s`);
  return result.status;
}
