// The batch API: many reads described in a shared array, submitted with one native call,
// completions reaped into another shared array — no per-IO JavaScript object.
//
//   node dist/examples/batch-reads.js [TARGET] [SECONDS]
import * as phyr from '../index';

async function main(target = 'emu:backend=null', secondsArg = '1'): Promise<void> {
  const ctrl = await phyr.open(target);
  try {
    const ns = ctrl.namespace(1);
    const qp = await ctrl.createQueuePair({ size: 256 });
    const depth = qp.capacity;
    const buf = ctrl.pool.alloc(depth * 4096);
    const blocksPerIo = 4096 / ns.lbaSize;
    // One arena entry per buffer slot, written once.
    for (let i = 0; i < depth; i++) qp.setEntry(i, buf.iovaAt(i * 4096), 4096);
    const randomLba = (): number => Math.floor(Math.random() * (ns.blocks / blocksPerIo)) * blocksPerIo;
    for (let i = 0; i < depth; i++) qp.setIo(i, phyr.NVME.IO_READ, ns.nsid, randomLba(), blocksPerIo, ns.lbaSize, i, 1, i);
    qp.submitBatch(0, depth);
    const end = Date.now() + Number(secondsArg) * 1000;
    let done = 0;
    let errors = 0;
    while (Date.now() < end) {
      const n = qp.reap();
      // Resubmit each finished slot with a new random LBA; the tag is the buffer slot.
      for (let i = 0; i < n; i++) {
        const w = i * phyr.CPL_WORDS;
        if ((qp.completions[w + phyr.CPL.STATUS_FLAGS] & phyr.CPL_STATUS_MASK) !== 0) errors++;
        const slot = qp.completions[w + phyr.CPL.TAG];
        qp.setIo(i, phyr.NVME.IO_READ, ns.nsid, randomLba(), blocksPerIo, ns.lbaSize, slot, 1, slot);
      }
      if (n > 0) qp.submitBatch(0, n);
      done += n;
    }
    console.log(`${done} reads of 4 KiB in ${secondsArg} s at queue depth ${depth}: ${Math.round(done / Number(secondsArg))} IOPS, ${errors} errors`);
    while (qp.stats().outstanding > 0) qp.reap();
    await qp.close();
    buf.free();
  } finally {
    await ctrl.close();
  }
}

main(process.argv[2], process.argv[3]).catch((e: Error) => {
  console.error(`batch-reads: ${e.message}`);
  process.exitCode = 1;
});
