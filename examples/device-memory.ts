// Device memory as IO buffers: a read lands in the controller's own memory buffer (CMB),
// then the same blocks are read into a peer controller's CMB peer-to-peer — the host CPU
// moves no data. The CMB contents are checked through the BARs at the end.
//
//   node dist/examples/device-memory.js
// On hardware, the peer is a second controller opened into the same VFIO container, e.g.
//   openVfio(PEER_BDF, { peerOf: ctrl.fn as VfioFunction }).
import * as crypto from 'crypto';
import * as phyr from '../index';
import type { EmuFunction } from '../index';

async function main(): Promise<void> {
  const ctrl = await phyr.open('emu:backend=ram,size=64M,cmb=1M,sgl=on');
  // The embedded twin of a second device in the same IOMMU domain.
  const peer = (ctrl.fn as EmuFunction).attachPeer('emu:backend=null,cmb=1M');
  try {
    const ns = ctrl.namespace(1);
    const data = ctrl.pool.alloc(64 * 1024);
    crypto.randomFillSync(data.bytes);
    await ns.write(0, data);

    // 1. The controller's own CMB: enabled with CBA at the IOVA it is mapped at.
    const cmb = await ctrl.enableCmb();
    const intoCmb = cmb.slice(0, 64 * 1024);
    console.log('own CMB:', ns.explain(intoCmb));
    await ns.read(0, intoCmb);

    // 2. The peer's CMB (its BAR 2), mapped into this controller's IOMMU domain.
    const window = ctrl.pool.mapDeviceMemory(peer.bar(2), 0, 64 * 1024, phyr.PhyrFlags.PEER_TO_PEER);
    console.log('peer CMB:', ns.explain(window.phyr));
    await ns.read(0, window.phyr);

    const want = Buffer.from(data.bytes);
    const own = Buffer.from(new Uint8Array(cmb.view, cmb.barOffset, 64 * 1024));
    const theirs = Buffer.from(new Uint8Array(peer.bar(2), 0, 64 * 1024));
    console.log(`own CMB holds the data: ${own.equals(want)}; peer CMB holds the data: ${theirs.equals(want)}`);
    if (!own.equals(want) || !theirs.equals(want)) process.exitCode = 1;
    window.release();
  } finally {
    await ctrl.close();
    peer.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
