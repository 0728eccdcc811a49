// Boots the QEMU testbed and runs one command in it: q35 with an emulated Intel IOMMU
// (interrupt remapping, caching mode) and the kernel's intel_iommu=on, the host root
// shared read-only over 9p, a writable results share mounted at the same path in the
// guest as on the host, and NVMe controllers from `--nvme` specs. In the guest every
// controller is bound to its driver (vfio-pci by default), hugepages are reserved, and the
// command runs with the host's node from the host's working directory. Its output streams
// back over the serial console between two marker lines; its exit status comes back
// through the results share. QEMU never outlives the call: it is killed on timeout and on
// SIGINT/SIGTERM.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { StringDecoder } from 'string_decoder';
import { PhyrError } from '../../lib/errors';
import { ensureInitramfs } from './initramfs';
import { checkQemuProperties, nvmeQemuArgs, type NvmeControllerSpec, type PlacedController } from './nvme-spec';
import { findPrereqs, type Prereqs } from './prereqs';
import { qemuNvmeProperties } from './qemu-properties';

/** What to boot and run. */
export interface VmOptions {
  command: string[];
  nvme?: NvmeControllerSpec[];
  /** Whole-run limit in seconds (boot included). */
  timeoutSeconds?: number;
  accel?: 'tcg' | 'kvm';
  memoryMiB?: number;
  cpus?: number;
  /** 2 MiB hugepages reserved in the guest before the command runs. */
  hugepages?: number;
  /** Working directory in the guest (a host path; the host root is shared). */
  cwd?: string;
  /** Extra environment for the command (PHYR_* variables of this process are passed too). */
  env?: Record<string, string>;
  /** Receives the command's output as it arrives (default: this process's stdout). */
  onOutput?: (text: string) => void;
  /** Where the initramfs cache and run directories live (default build/vm in the package). */
  workDir?: string;
  /**
   * Files the command writes into the results share ($PHYR_VM_SHARE in the guest) to read
   * back before the share is removed.
   */
  collect?: string[];
  /** The QEMU binary (default: qemu-system-x86_64 from PATH). */
  qemu?: string;
  /** A QMP monitor on this unix socket path (for device_del and other monitor commands). */
  qmpSocket?: string;
  /**
   * The kernel to boot: a version in /boot or a prefix of one (`6.12`: the newest that
   * matches). Default: the newest in /boot the testbed can boot.
   */
  kernelVersion?: string;
  /** Receives one line saying which kernel boots and why (default: nowhere). */
  onNotice?: (text: string) => void;
}

/** What came back. */
export interface VmResult {
  /** The command's exit status. */
  status: number;
  /** The command's output (stdout and stderr interleaved, as on a terminal). */
  output: string;
  seconds: number;
  controllers: PlacedController[];
  /** Contents of the `collect` files that exist. */
  files: Record<string, string>;
  /** The kernel version that booted. */
  kernelVersion: string;
}

const BEGIN = '@@PHYR-VM-BEGIN@@';
const END = '@@PHYR-VM-END@@';
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', ...(path.basename(path.resolve(__dirname, '..', '..')) === 'dist' ? ['..'] : []));

/** Quotes one word for /bin/sh. */
export const shellQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/** The per-run script the guest runs in the host root (chrooted), as /bin/sh. */
export function guestScript(opts: { share: string; cwd: string; command: string[]; env: Record<string, string>; hugepages: number; controllers: PlacedController[] }): string {
  const lines = [
    '#!/bin/sh',
    '# phyr testbed: per-run script (generated).',
    'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp PHYR_IN_VM=1',
    ...Object.entries(opts.env).map(([k, v]) => `export ${k}=${shellQuote(v)}`),
    `share=${shellQuote(opts.share)}`,
    'export PHYR_VM_SHARE="$share"',
    'bind() {',
    '  d=/sys/bus/pci/devices/$1',
    '  echo "$2" > $d/driver_override',
    '  if [ -e $d/driver ]; then echo $1 > $d/driver/unbind; fi',
    '  echo $1 > /sys/bus/pci/drivers_probe',
    '  [ -e $d/driver ] || echo "phyr-vm: $1 did not bind to $2"',
    '}',
    'modprobe vfio-pci || echo "phyr-vm: modprobe vfio-pci failed"',
  ];
  if (opts.controllers.some((c) => c.driver === 'nvme')) lines.push('modprobe nvme || echo "phyr-vm: modprobe nvme failed"');
  for (const c of opts.controllers) if (c.driver !== 'none') lines.push(`bind ${c.bdf} ${c.driver}`);
  lines.push(
    `echo ${opts.hugepages} > /proc/sys/vm/nr_hugepages`,
    `cd ${shellQuote(opts.cwd)} || exit 1`,
    `echo ${BEGIN}`,
    opts.command.map(shellQuote).join(' '),
    'status=$?',
    `echo ${END}`,
    'echo $status > "$share/status"',
  );
  return lines.join('\n') + '\n';
}

function qemuArgs(pre: Prereqs, initrd: string, share: string, o: Required<Pick<VmOptions, 'accel' | 'memoryMiB' | 'cpus'>>, nvmeArgs: string[]): string[] {
  // no_timer_check: under TCG on a loaded host the kernel's IO-APIC timer probe can miss its
  // window and panic ("timer doesn't work through Interrupt-remapped IO-APIC").
  const append = `console=ttyS0 panic=-1 intel_iommu=on no_timer_check quiet loglevel=1 phyr.share=${share}`;
  return [
    // The addon is built for x86-64-v2 (SSE4.2, POPCNT): TCG's default qemu64 CPU lacks them.
    ...(o.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg', '-cpu', 'max']),
    // debug-threads: QEMU names its threads ("CPU 0/TCG", the main loop's process name), so a
    // benchmark can tell the guest's vCPUs from the device emulation in /proc/PID/task.
    '-name', 'phyr-vm,debug-threads=on',
    '-machine', 'q35,kernel-irqchip=split',
    '-m', String(o.memoryMiB), '-smp', String(o.cpus),
    '-nodefaults', '-display', 'none', '-serial', 'stdio', '-no-reboot',
    // The IOMMU comes before the devices it translates for.
    '-device', 'intel-iommu,intremap=on,caching-mode=on',
    '-kernel', pre.kernel, '-initrd', initrd, '-append', append,
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${share},mount_tag=results,security_model=none,multidevs=remap`,
    ...nvmeArgs,
  ];
}

/** Boots the testbed, runs the command, powers off, and returns the command's result. */
export async function runVm(options: VmOptions): Promise<VmResult> {
  if (!options.command.length) throw new PhyrError('PHYR_VM_USAGE', 'no command to run in the guest: phyr vm [options] -- COMMAND...');
  const pre = findPrereqs({ kernelVersion: options.kernelVersion });
  const workDir = path.resolve(options.workDir ?? process.env.PHYR_VM_DIR ?? path.join(PACKAGE_ROOT, 'build', 'vm'));
  if (workDir === '/tmp' || workDir.startsWith('/tmp/')) throw new PhyrError('PHYR_VM_USAGE', `the testbed's work directory ${workDir} must not be under /tmp (the guest mounts its own /tmp)`);
  const qemu = options.qemu ?? pre.qemu;
  // Only a spec that passes QEMU properties through needs QEMU's list (asking starts QEMU).
  if ((options.nvme ?? []).some((s) => s.qemu && Object.keys(s.qemu).length)) checkQemuProperties(options.nvme ?? [], qemuNvmeProperties(qemu, workDir));
  options.onNotice?.(pre.kernelReason);
  const initrd = ensureInitramfs(pre, workDir);
  fs.mkdirSync(path.join(workDir, 'runs'), { recursive: true });
  const share = fs.mkdtempSync(path.join(workDir, 'runs', 'run-'));
  const images = fs.mkdtempSync(path.join(workDir, 'runs', 'img-'));
  const t0 = Date.now();
  try {
    const nvme = nvmeQemuArgs(options.nvme ?? [], images);
    for (const img of nvme.images) {
      const fd = fs.openSync(img.path, 'w');
      fs.ftruncateSync(fd, img.size); // sparse
      fs.closeSync(fd);
    }
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (k.startsWith('PHYR_') && k !== 'PHYR_VM_DIR' && v !== undefined) env[k] = v;
    Object.assign(env, options.env ?? {});
    fs.writeFileSync(
      path.join(share, 'guest.sh'),
      guestScript({ share, cwd: path.resolve(options.cwd ?? process.cwd()), command: options.command, env, hugepages: options.hugepages ?? 64, controllers: nvme.placed }),
      { mode: 0o755 },
    );
    const args = qemuArgs(pre, initrd, share, { accel: options.accel ?? 'tcg', memoryMiB: options.memoryMiB ?? 2048, cpus: options.cpus ?? 2 }, nvme.args);
    if (options.qmpSocket) args.push('-qmp', `unix:${options.qmpSocket},server=on,wait=off`);
    const { output, console: consoleLog, timedOut, signal } = await runQemu(qemu, args, (options.timeoutSeconds ?? 600) * 1000, options.onOutput ?? ((s) => process.stdout.write(s)));
    const seconds = (Date.now() - t0) / 1000;
    if (signal) throw new PhyrError('PHYR_VM_INTERRUPTED', `the guest was stopped by ${signal}; QEMU was killed`);
    if (timedOut) throw new PhyrError('PHYR_VM_TIMEOUT', `the guest did not finish within ${options.timeoutSeconds ?? 600} s; QEMU was killed (raise --timeout). Console tail:\n${tail(consoleLog)}`);
    let statusText: string;
    try {
      statusText = fs.readFileSync(path.join(share, 'status'), 'utf8').trim();
    } catch {
      throw new PhyrError('PHYR_VM_BOOT', `the guest powered off without running the command. Console tail:\n${tail(consoleLog)}`);
    }
    const files: Record<string, string> = {};
    for (const name of options.collect ?? []) {
      if (name.includes('/') || name === 'status' || name === 'guest.sh') throw new PhyrError('PHYR_VM_USAGE', `cannot collect '${name}': give a plain file name`);
      try {
        files[name] = fs.readFileSync(path.join(share, name), 'utf8');
      } catch {
        /* not written */
      }
    }
    return { status: Number(statusText), output, seconds, controllers: nvme.placed, files, kernelVersion: pre.kernelVersion };
  } finally {
    if (!process.env.PHYR_VM_KEEP) {
      fs.rmSync(share, { recursive: true, force: true });
      fs.rmSync(images, { recursive: true, force: true });
    }
  }
}

const tail = (text: string, lines = 30): string => text.split('\n').slice(-lines).join('\n');

/** Runs QEMU to completion, forwarding the text between the markers. */
function runQemu(qemu: string, args: string[], timeoutMs: number, onOutput: (s: string) => void): Promise<{ output: string; console: string; timedOut: boolean; signal?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let consoleLog = '';
    let output = '';
    let pending = '';
    let inCommand = false;
    let timedOut = false;
    let signal: string | undefined;
    const onLine = (line: string): void => {
      if (line === BEGIN) inCommand = true;
      else if (line === END) inCommand = false;
      else if (inCommand) {
        output += line + '\n';
        onOutput(line + '\n');
      }
    };
    // A multi-byte character may be split across chunks: decode as a stream.
    const decoder = new StringDecoder('utf8');
    const onData = (chunk: Buffer): void => {
      const text = decoder.write(chunk).replace(/\r/g, '');
      consoleLog += text;
      if (consoleLog.length > 1 << 20) consoleLog = consoleLog.slice(-(1 << 19));
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c: Buffer) => (consoleLog += c.toString('utf8')));
    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    const onSignal = (sig: NodeJS.Signals): void => {
      signal = sig;
      kill();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const cleanup = (): void => {
      clearTimeout(timer);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    };
    child.on('error', (err) => {
      cleanup();
      reject(new PhyrError('PHYR_VM_BOOT', `could not start ${qemu}: ${err.message}`));
    });
    child.on('close', () => {
      cleanup();
      if (pending) onLine(pending);
      resolve({ output, console: consoleLog, timedOut, signal });
    });
  });
}
