// A small IO application: fills a range of blocks with a pattern, copies it to another
// range through pool memory, verifies the copy, and reports how the driver described
// each buffer to the controller.
//
//   node dist/examples/copy-blocks.js [TARGET] [BLOCKS]
//   e.g. node dist/examples/copy-blocks.js emu:backend=ram 256  (built by npm install: dist/ is tsc's output)
import * as phyr from '../index';

async function main(target = 'emu:backend=ram,size=64M', blocksArg = '256'): Promise<void> {
  const ctrl = await phyr.open(target);
  try {
    const ns = ctrl.namespace(1);
    const blocks = Number(blocksArg);
    const bytes = blocks * ns.lbaSize;
    console.log(`${ctrl.identify.mn} (${ctrl.identify.sn}): namespace 1 has ${ns.blocks} blocks of ${ns.lbaSize} bytes`);

    // 1. An ordinary Buffer: mapped for the IO and unmapped afterwards.
    const pattern = Buffer.alloc(bytes);
    for (let i = 0; i < bytes; i += 4) pattern.writeUInt32LE(i, i);
    await ns.write(0, pattern);

    // 2. Pool memory: already mapped, the cheapest kind of buffer.
    const staging = ctrl.pool.alloc(bytes);
    await ns.read(0, staging);
    console.log('pool buffer:', ns.explain(staging));
    await ns.write(blocks, staging, { fua: true });

    // 3. A phyr array: two halves of the staging buffer, in swapped order.
    const half = bytes / 2;
    const swapped = staging.toPhyr(half, half);
    staging.toPhyr(0, half, swapped);
    console.log('phyr array:', ns.explain(swapped));
    await ns.write(2 * blocks, swapped);

    const check = Buffer.alloc(bytes);
    await ns.read(blocks, check);
    console.log('copy verified:', check.equals(pattern));
    await ns.read(2 * blocks, check);
    console.log('swapped halves verified:', check.subarray(0, half).equals(pattern.subarray(half)) && check.subarray(half).equals(pattern.subarray(0, half)));
    await ns.flush();
    staging.free();
  } finally {
    await ctrl.close();
  }
}

main(process.argv[2], process.argv[3]).catch((e: Error) => {
  console.error(`copy-blocks: ${e.message}`);
  process.exitCode = 1;
});
