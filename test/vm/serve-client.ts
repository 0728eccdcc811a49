// A served client of the VM tier's serve case (cases/serve.ts), run as its own process:
//   node serve-client.js SOCKET FIRST_LBA verify N   N verified write/read pairs, 8 at once,
//                                                   then "verified N" and exit 0
//   node serve-client.js SOCKET FIRST_LBA forever    writes with 8 in flight until killed
// With a fifth argument `wait`, it prints "started" and connects only once a line arrives
// on stdin (so the next victim's Node start-up overlaps the current round). Prints
// "connecting" before it connects and "ready" once its first write was acknowledged.
// Its LBAs are FIRST_LBA.. (256 slots of 8 blocks), apart from every other client's.
import { connect } from '../../serve';

async function main(): Promise<void> {
  const [socket, firstArg, mode, countArg, waitArg] = process.argv.slice(2);
  if (waitArg === 'wait') {
    process.stdout.write('started\n');
    await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
    process.stdin.pause();
  }
  const first = Number(firstArg);
  const count = mode === 'verify' ? Number(countArg) : Infinity;
  process.stdout.write('connecting\n');
  const c = await connect(socket);
  const ns = c.namespace(1);
  let n = 0;
  let verified = 0;
  let ready = false;
  const worker = async (): Promise<void> => {
    const buf = c.pool.alloc(4096);
    const back = c.pool.alloc(4096);
    while (n < count) {
      const seq = n++;
      const lba = first + (seq % 256) * 8;
      const value = (seq * 29 + 1) & 0xff;
      buf.bytes.fill(value);
      await ns.write(lba, buf);
      if (!ready) {
        ready = true;
        process.stdout.write('ready\n');
      }
      if (mode !== 'verify') continue;
      await ns.read(lba, back);
      if (!back.bytes.every((b) => b === value)) throw new Error(`LBA ${lba}: read back differs from the write of 0x${value.toString(16)}`);
      verified++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await c.close();
  process.stdout.write(`verified ${verified}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`serve-client: ${e.stack ?? e.message}\n`);
  process.exit(1);
});
