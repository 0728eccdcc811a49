// phyr validate on the embedded controller with SGL support and with a controller memory
// buffer plus a peer function (p2p): every suite passes, the SGL and p2p cases included.
import t from 'tap';
import { expectFullPass } from '../helpers/validate-emu';

t.test('every suite passes: emu sgl=on', async (t) => {
  const report = await expectFullPass(t, 'emu:backend=ram,size=64M,sgl=on');
  t.ok(report.device.identify && (report.device.identify.sgls as number) & 3, 'the controller claims SGLs');
});

t.test('every suite passes: emu cmb=16M with a peer (p2p runs)', async (t) => {
  const report = await expectFullPass(t, 'emu:backend=ram,size=64M,cmb=16M', ['--peer', 'emu:cmb=1M']);
  for (const id of ['p2p.cmb.read-data', 'p2p.cmb.write-data', 'p2p.peer.read-data', 'p2p.peer.write-data']) {
    t.equal(report.cases.find((c) => c.id === id)?.outcome.status, 'pass', `${id} passes`);
  }
});
