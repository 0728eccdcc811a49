// Synthetic cases and a synthetic device for the phyr validate tests: one case per outcome
// path, and a session whose identity matches QEMU's NVMe so that quirks apply.
import type { PciFunction } from '../../lib/pci/function';
import { CaseSkip, type PreparedCase } from '../../tools/validate/runner';
import type { ValidateSession } from '../../tools/validate/session';
import type { DeviceIdentity, ValidateCase } from '../../tools/validate/types';

/** A PciFunction that fails loudly if a synthetic case ever touches it. */
export const untouchableFn: PciFunction = new Proxy({} as PciFunction, {
  get(_t, prop) {
    if (prop === 'kind') return 'emu';
    if (prop === 'name') return 'synthetic';
    if (prop === 'then') return undefined;
    throw new Error(`synthetic device: ${String(prop)} must not be used`);
  },
});

export const qemuIdentity: DeviceIdentity = {
  target: 'synthetic',
  kind: 'synthetic',
  vendorId: 0x1b36,
  deviceId: 0x0010,
  model: 'QEMU NVMe Ctrl',
  serial: 'SYN<&>"1',
  firmware: '7.2.0',
  version: '1.4.0',
  identify: { vid: 0x1b36, mn: 'QEMU NVMe Ctrl', sn: 'SYN<&>"1', mdts: 7 },
  namespace: { nsze: 2048, lbaf0_lbads: 9 },
};

export const plainIdentity: DeviceIdentity = { ...qemuIdentity, vendorId: 0x1234, deviceId: 0x5678, model: 'Plain Drive', serial: 'PLAIN1', firmware: '1.0' };

/** One synthetic case per way a case can end. */
export function syntheticCases(): ValidateCase[] {
  const c = (id: string, run: ValidateCase['run'], extra: Partial<ValidateCase> = {}): ValidateCase => ({
    id,
    suite: 'errors',
    purpose: `synthetic: ${id}`,
    spec: 'NVMe 1.4 §0.0',
    needs: 'none',
    run,
    ...extra,
  });
  return [
    c('errors.synthetic.pass', async (ctx) => {
      ctx.log('about to pass');
      return { status: 'pass', detail: `nsid ${ctx.nsid}` };
    }),
    c('errors.synthetic.fail', async () => ({
      status: 'fail',
      sent: 'Read nsid=1 slba=0x100000000 nlb=0 (opcode 02h)',
      expected: 'status 0080h LBA Out of Range with DNR',
      received: 'status 0000h Success',
    })),
    c('errors.synthetic.na', async () => ({ status: 'not-applicable', reason: 'the controller does not claim SGL support (SGLS=0)' })),
    c('errors.synthetic.skip', async () => ({ status: 'skipped', reason: 'no peer device attached' })),
    c('errors.synthetic.self-deviation', async () => ({ status: 'deviation', quirk: 'made-up', expected: 'A', received: 'B' })),
    c('errors.synthetic.throws', async () => {
      throw new Error('boom <&>');
    }),
    c('errors.synthetic.hangs', () => new Promise(() => undefined), { timeoutMs: 50 }),
    c('errors.synthetic.malformed', async () => ({ status: 'maybe' }) as never),
    c('errors.synthetic.destructive', async (ctx) => ({ status: ctx.destructive ? 'pass' : 'fail', expected: 'gated', received: 'ran' }) as never, { destructive: true }),
    c('errors.synthetic.unpreparable', async () => ({ status: 'pass' }), { needs: 'raw' }),
    // admin.abort.* is named by the QEMU abort quirk: its failure becomes a deviation.
    c('admin.abort.synthetic', async () => ({ status: 'fail', expected: 'Abort CQE DW0 bit 0 = 0 (aborted)', received: 'DW0 bit 0 = 1 (not aborted)', sent: 'Abort sqid=1 cid=7' }), { suite: 'admin' }),
  ];
}

/** Records what the runner asked of the session. */
export interface SessionLog {
  prepared: string[];
  released: string[];
  recovered: string[];
  closed: number;
}

/** A session over the synthetic device. Cases needing raw queues cannot be prepared. */
export function syntheticSession(device: DeviceIdentity = qemuIdentity, log: SessionLog = { prepared: [], released: [], recovered: [], closed: 0 }): ValidateSession & { log: SessionLog } {
  return {
    log,
    fn: untouchableFn,
    device,
    platform: { kernel: '6.1.0-test', os: 'Linux', arch: 'x64', node: process.version, hostname: 'host<1>', cpus: 2, iommu: 'synthetic' },
    async prepare(c: ValidateCase): Promise<PreparedCase> {
      if (c.needs === 'raw') throw new CaseSkip('synthetic device has no raw queues');
      log.prepared.push(c.id);
      return { release: async () => void log.released.push(c.id) };
    },
    async recover(reason: string) {
      log.recovered.push(reason);
    },
    async close() {
      log.closed++;
    },
  };
}
