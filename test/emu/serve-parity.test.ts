// The same IO sequence through open() and through connect() to phyr serve: sizes from one
// LBA to 1 MiB (PRP lists, a split at MDTS), unaligned-in-memory offsets, pool buffers and
// plain Buffers, flush, and the out-of-range refusal. Both must read back exactly what was
// written, and the served controller must report the same namespace geometry.
import t, { type Test } from 'tap';
import * as fs from 'fs';
import { connect, open } from '../../index';
import { startDaemon, stopDaemon, tmpDir } from './fixtures/serve-helpers';

const TARGET = 'emu:backend=ram,size=64M,mdts=7';
const dir = tmpDir();
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Ns {
  read(lba: number, buf: Uint8Array | { iova: number; bytes: Uint8Array; size: number }): Promise<void>;
  write(lba: number, buf: Uint8Array | { iova: number; bytes: Uint8Array; size: number }): Promise<void>;
  flush(): Promise<void>;
  readonly lbaSize: number;
  readonly blocks: number;
}
interface Pool {
  alloc(size: number): { iova: number; bytes: Uint8Array; size: number };
}

// Returns a digest of everything read back, so the two runs can be compared too.
async function sequence(t: Test, ns: Ns, pool: Pool): Promise<string[]> {
  const seen: string[] = [];
  let lba = 0;
  for (const bytes of [512, 4096, 12288, 65536, 524288, 1048576]) {
    const buf = pool.alloc(bytes);
    for (let i = 0; i < bytes; i++) buf.bytes[i] = (i * 31 + bytes) & 0xff;
    await ns.write(lba, buf);
    const back = pool.alloc(bytes);
    await ns.read(lba, back);
    t.ok(Buffer.from(back.bytes).equals(Buffer.from(buf.bytes)), `${bytes} bytes of pool memory at LBA ${lba} read back`);
    seen.push(`${lba}:${Buffer.from(back.bytes).subarray(0, 16).toString('hex')}`);
    lba += bytes / ns.lbaSize;
  }
  const plain = Buffer.alloc(8192);
  for (let i = 0; i < plain.length; i++) plain[i] = (i * 7) & 0xff;
  await ns.write(lba, plain.subarray(512, 4608)); // a view at an offset, not page-aligned in memory
  const got = Buffer.alloc(4096);
  await ns.read(lba, got);
  t.ok(got.equals(plain.subarray(512, 4608)), 'a Buffer view at an unaligned offset reads back');
  seen.push(`${lba}:${got.subarray(0, 16).toString('hex')}`);
  await ns.flush();
  const err = await ns.read(ns.blocks - 1, Buffer.alloc(1024)).then(() => undefined, (e: unknown) => e as Error);
  t.ok(err instanceof Error && /PHYR_INVALID_IO/.test(String((err as { code?: string }).code)), `past the end: ${(err as { code?: string })?.code}`);
  return seen;
}

t.test('open() and connect() run the same IO sequence with the same results', async (t) => {
  const local = await open(TARGET, { pool: { hugepages: 'off' } });
  const a = await sequence(t, local.namespace(1) as unknown as Ns, local.pool);
  const geometry = [local.namespace(1).lbaSize, local.namespace(1).blocks];
  await local.close();

  const d = await startDaemon(dir, TARGET);
  t.teardown(() => stopDaemon(d));
  const served = await connect(d.socket, { hugepages: 'off' });
  t.same([served.namespace(1).lbaSize, served.namespace(1).blocks], geometry, 'the same namespace geometry');
  const b = await sequence(t, served.namespace(1), served.pool);
  t.same(b, a, 'the same data read back through both');
  await served.close();
});
