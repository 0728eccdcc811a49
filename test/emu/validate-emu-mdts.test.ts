// phyr validate on the embedded controller with a small MDTS (2^2 pages = 16 KiB) and
// 4 KiB blocks: every suite passes (integrity IO is split at the transfer limit).
import t from 'tap';
import { expectFullPass } from '../helpers/validate-emu';

t.test('every suite passes: emu small MDTS, 4 KiB blocks', async (t) => {
  const report = await expectFullPass(t, 'emu:backend=ram,size=64M,mdts=2,lbads=12');
  t.match(report.device.identify, { mdts: 2 });
  t.match(report.device.namespace, { lbaSize: 4096 });
});
