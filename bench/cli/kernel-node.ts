// filename=/dev/nvmeXnY (or /dev/ngXnY, the same namespace's character node) in a job file
// written for the kernel stack. With a TARGET on the command line the node is replaced by
// it (a notice says so). Without one, sysfs names the node's controller (its PCI address)
// and namespace ID: a controller still driven by the kernel is refused with the command
// that hands it to phyr; one already bound to vfio-pci becomes the run's target.
import * as fs from 'fs';
import * as path from 'path';
import { BenchConfigError, BenchOptionError } from './errors';
import type { JobSpec } from './job';
import { KERNEL_NAMESPACE_NODE } from './kernel-stack';
import type { ApplyContext } from './option-types';

/** What sysfs says of a kernel namespace node. */
export interface KernelNamespace {
  node: string;
  bdf: string;
  nsid: number;
  /** The PCI driver bound to the controller (nvme, vfio-pci, ...), or '' when none. */
  driver: string;
}

const BDF = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

function readTrim(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Looks a node up in sysfs under `root` (/sys on a host; a fake tree in tests). */
export function lookupKernelNamespace(node: string, root: string): KernelNamespace {
  const m = KERNEL_NAMESPACE_NODE.exec(node);
  if (!m) throw new BenchConfigError(`--filename=${node}: not a kernel NVMe namespace node (/dev/nvmeXnY or /dev/ngXnY)`, 'PHYR_BENCH_BAD_OPTION');
  // The character node ngXnY is the generic twin of the block node nvmeXnY.
  const disk = `nvme${m[2]}n${m[3]}`;
  const block = path.join(root, 'block', disk);
  if (!fs.existsSync(block)) {
    throw new BenchConfigError(`--filename=${node}: the kernel has no namespace ${disk} (${block} is missing); if its controller is already bound to vfio-pci, give the controller's PCI address as the TARGET (phyr bench 0000:01:00.0 --nsid=N JOBFILE)`, 'PHYR_BENCH_BAD_OPTION');
  }
  const nsidText = readTrim(path.join(block, 'nsid'));
  const nsid = Number(nsidText);
  // The controller's address: the namespace's own controller link, else the controller of
  // the same instance number (X of nvmeXnY; with native multipath X names the subsystem).
  const bdf = (readTrim(path.join(block, 'device', 'address')) ?? readTrim(path.join(root, 'class', 'nvme', `nvme${m[2]}`, 'address')) ?? '').toLowerCase();
  if (!Number.isSafeInteger(nsid) || nsid < 1 || !BDF.test(bdf)) {
    throw new BenchConfigError(`--filename=${node}: sysfs does not name its controller's PCI address and namespace ID (${block}/nsid = ${nsidText ?? 'missing'}, address = ${bdf || 'missing'}); give the controller's PCI address as the TARGET`, 'PHYR_BENCH_BAD_OPTION');
  }
  let driver = '';
  try {
    driver = path.basename(fs.readlinkSync(path.join(root, 'bus', 'pci', 'devices', bdf, 'driver')));
  } catch {
    driver = '';
  }
  return { node, bdf, nsid, driver };
}

/**
 * Replaces or resolves the jobs' kernel nodes; answers the target they resolved to when no
 * TARGET was given (undefined when no job names a node).
 */
export function resolveKernelNamespaces(jobs: JobSpec[], target: string | undefined, root: string, ctx: ApplyContext): string | undefined {
  let resolved: string | undefined;
  for (const j of jobs) {
    const node = j.kernelFilename;
    if (!node) continue;
    if (target !== undefined) {
      // The device given on the command line is the one the user chose: a job file's own
      // device or file (written for fio on the kernel) gives way to it, and says so.
      const what = KERNEL_NAMESPACE_NODE.test(node) ? '' : ' (not a kernel NVMe namespace node: phyr does its IO on the namespace, never on this path)';
      ctx.notice(`--filename=${node}: replaced by the TARGET ${target}: job '${j.name}' drives its namespace ${j.nsid} (--nsid)${what}`);
      continue;
    }
    if (!KERNEL_NAMESPACE_NODE.test(node)) {
      throw new BenchOptionError('filename', node, 'phyr drives an NVMe namespace, not a file: give the device as TARGET (emu[:...] or a PCI address), which replaces filename, or name a kernel namespace node /dev/nvmeXnY or /dev/ngXnY');
    }
    const ns = lookupKernelNamespace(node, root);
    if (ns.driver !== 'vfio-pci') {
      throw new BenchConfigError(`--filename=${node} is namespace ${ns.nsid} of the controller ${ns.bdf}, which the kernel's ${ns.driver || 'nvme'} driver still drives; hand it to phyr with \`phyr setup --bind ${ns.bdf}\`, then give it as the TARGET: phyr bench ${ns.bdf} --nsid=${ns.nsid} ...`, 'PHYR_BENCH_KERNEL_DRIVEN');
    }
    if (resolved !== undefined && resolved !== ns.bdf) throw new BenchConfigError(`--filename=${node} is on the controller ${ns.bdf}, but another job's is on ${resolved}: one run drives one controller`, 'PHYR_BENCH_BAD_OPTION');
    resolved = ns.bdf;
    j.nsid = ns.nsid;
    ctx.notice(`--filename=${node}: resolved through sysfs to the controller ${ns.bdf}, namespace ${ns.nsid}`);
  }
  return resolved;
}
