// get-feature without -f walks every FID: features refused with Invalid Field (not
// implemented) or Invalid Namespace (namespace-specific under NSID FFFFFFFFh, as QEMU's
// Error Recovery) are skipped, any other failure stops the walk with its status.
import t from 'tap';
import { getFeature } from '../../tools/nvme/subcommands/features';
import { NvmeStatusError } from '../../drivers/nvme';
import { NVME } from '../../spec/nvme';
import type { NvmeDevice } from '../../tools/nvme/device';

const status = (sc: number): number => sc | (NVME.SCT_GENERIC << NVME.STATUS_SCT_SHIFT) | NVME.STATUS_DNR;

function fakeDevice(answer: (fid: number) => number | Error): NvmeDevice {
  return {
    name: 'fake',
    admin: async (sqe: Uint8Array) => {
      const r = answer(sqe[40]);
      if (r instanceof Error) throw r;
      return { dw0: r, data: new Uint8Array(0) };
    },
  } as unknown as NvmeDevice;
}

const refuse = (sc: number) => new NvmeStatusError(status(sc), { admin: true, opcode: NVME.ADMIN_GET_FEATURES, name: 'Get Features' });

t.test('Invalid Field and Invalid Namespace are skipped; the rest are printed in FID order', async (t) => {
  const out: string[] = [];
  const dev = fakeDevice((fid) => (fid === NVME.FEAT_ERROR_RECOVERY ? refuse(NVME.SC_INVALID_NAMESPACE) : fid === NVME.FEAT_VOLATILE_WRITE_CACHE || fid === NVME.FEAT_ARBITRATION ? 1 : refuse(NVME.SC_INVALID_FIELD)));
  const code = await getFeature.run({ dev, values: {}, io: { out: (s) => out.push(s), err: () => undefined, bytes: () => undefined }, format: 'normal' });
  t.equal(code, 0);
  t.same(out, ['get-feature:0x01 (Arbitration), Current value:0x00000001', 'get-feature:0x06 (Volatile Write Cache), Current value:0x00000001']);
});

t.test('another refusal stops the walk with its error', async (t) => {
  const dev = fakeDevice((fid) => (fid === 3 ? refuse(NVME.SC_INTERNAL_ERROR) : refuse(NVME.SC_INVALID_FIELD)));
  await t.rejects(getFeature.run({ dev, values: {}, io: { out: () => undefined, err: () => undefined, bytes: () => undefined }, format: 'normal' }), /Internal Error/);
});
