// The VM tier on the host: boots the testbed once with the tier's controllers, runs the
// in-guest suite in one node process, and reads its results back through the share.
// Ends with "N passed, N failed" (the guest's count, plus 1 failure if the guest failed
// without reporting). PHYR_VM_KERNEL picks the kernel (a version or a prefix such as 6.12;
// default: the newest in /boot the testbed can boot).
//   node build/vm-ts/test/vm/runner.js [FILTER]
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runVm } from '../../tools/vm';
import type { CaseResult } from './harness';
import { qmpCommand } from './qmp';
import { parseNvmeSpec } from '../../tools/vm/nvme-spec';
import { VM_TIER_CONTROLLERS, VM_TIER_HUGEPAGES } from './topology';

async function main(): Promise<number> {
  const filter = process.argv[2] ?? '';
  const suite = path.join(__dirname, 'suite.js');
  const t0 = Date.now();
  // The guest asks for monitor commands (device_del) with a marker line on its console;
  // the host runs them on QEMU's QMP socket and prints what came back.
  const qmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-qmp-'));
  const qmpSocket = path.join(qmpDir, 'qmp.sock');
  const onOutput = (text: string): void => {
    process.stdout.write(text);
    const m = /^@@PHYR-VM-QMP (.*)@@$/.exec(text.trim());
    if (!m) return;
    const { execute, arguments: args } = JSON.parse(m[1]) as { execute: string; arguments: Record<string, unknown> };
    qmpCommand(qmpSocket, execute, args, 8000).then(
      (r) => console.log(`vm tier: QMP ${execute} ${JSON.stringify(args)} -> ${JSON.stringify(r.reply)}; events ${JSON.stringify(r.events.map((e) => e.event))}`),
      (e: unknown) => console.log(`vm tier: QMP ${execute} failed: ${(e as Error).message}`),
    );
  };
  const boot = () =>
    runVm({
      qmpSocket,
      onOutput,
      command: [process.execPath, suite, ...(filter ? [filter] : [])],
      nvme: VM_TIER_CONTROLLERS.map(parseNvmeSpec),
      hugepages: VM_TIER_HUGEPAGES,
      timeoutSeconds: Number(process.env.PHYR_VM_TIER_TIMEOUT ?? 1500),
      collect: ['results.json'],
      kernelVersion: process.env.PHYR_VM_KERNEL || undefined,
      onNotice: (text) => console.log(`vm tier: ${text}`),
    });
  let boots = 1;
  let r;
  try {
    r = await boot();
  } catch (err) {
    // A guest that dies before the command starts (a TCG boot hiccup) gets one more boot;
    // anything after the command started is a result, never retried.
    if ((err as { code?: string }).code !== 'PHYR_VM_BOOT') throw err;
    console.log(`vm tier: the first boot failed before the suite ran; booting again\n${(err as Error).message}`);
    boots++;
    r = await boot();
  }
  fs.rmSync(qmpDir, { recursive: true, force: true });
  const minutes = ((Date.now() - t0) / 60000).toFixed(1);
  const json = r.files['results.json'];
  if (!json) {
    console.log(`vm tier: the guest wrote no results (exit ${r.status}) after ${minutes} min`);
    console.log('0 passed, 1 failed');
    return 1;
  }
  const { passed, failed, results } = JSON.parse(json) as { passed: number; failed: number; results?: CaseResult[] };
  // Repeated from results.json: a guest's serial console can drop lines under load, and
  // the failures must be readable whatever the console kept.
  for (const c of results ?? []) if (!c.ok) console.log(`vm tier: failed: ${c.name}\n  ${(c.error ?? '').split('\n').slice(0, 6).join('\n  ')}`);
  console.log(`vm tier: ${boots} guest boot${boots > 1 ? 's' : ''} of kernel ${r.kernelVersion}, ${minutes} min, guest exit ${r.status}`);
  const extra = r.status !== 0 && failed === 0 ? 1 : 0;
  console.log(`${passed} passed, ${failed + extra} failed`);
  return failed + extra === 0 ? 0 : 1;
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.log(`vm tier: ${(err as Error).message}`);
    console.log('0 passed, 1 failed');
    process.exitCode = 1;
  },
);
