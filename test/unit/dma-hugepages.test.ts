// Hugepage-backed pools and the fallback, for real: as root this test reserves 2 MiB
// hugepages itself (and restores the old reserve afterwards), so both paths run on every
// machine where the tests run as root. Without root it says so loudly, tests what it can,
// and fails under PHYR_REQUIRE_ALL_TIERS=1.
import t from 'tap';
import * as fs from 'fs';
import {
  DmaPool,
  HugepagesUnavailableError,
  readHugepageStatus,
  reservedHugepages,
  setReservedHugepages,
} from '../../lib/dma';
import type { DmaBuffer } from '../../lib/dma';
import { memoryNative } from '../../lib/dma/native';
import { PhyrArray, PhyrFlags } from '../../lib/phyr';
import { collect } from './fixtures/gc';
import { RecordingFunction } from './fixtures/recording-function';

const MiB = 1024 * 1024;
const isRoot = process.getuid?.() === 0;
const native = memoryNative();
// Hugepage memory of THIS process (/proc/self/status), immune to other processes that use
// the machine-wide reserve at the same time.
const ownHugepageBytes = (): number => {
  const m = /^HugetlbPages:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
};
const recorder = (): RecordingFunction => new RecordingFunction(undefined, (m, o) => native.pageOffset(m, o));

// Every process warning the pool emits, to check the fallback warning is given once.
const warnings: Error[] = [];
process.on('warning', (w) => {
  if ((w as Error & { code?: string }).code === 'PHYR_NO_HUGEPAGES') warnings.push(w);
});

t.test('hugepage status parsing', async (t) => {
  const s = readHugepageStatus('HugePages_Total:       8\nHugePages_Free:        5\nHugePages_Rsvd:        1\nHugepagesize:       2048 kB\n');
  t.same(s, { total: 8, free: 5, reserved: 1, pageSize: 2 * MiB });
  t.same(readHugepageStatus(''), { total: 0, free: 0, reserved: 0, pageSize: 0 });
  t.equal(readHugepageStatus().pageSize, 2 * MiB, 'this machine uses 2 MiB default hugepages');
  t.throws(() => setReservedHugepages(-1), { code: 'PHYR_DMA_BAD_ARGUMENT' });
});

t.test("'off' always uses locked 4 KiB pages without a warning", async (t) => {
  const before = warnings.length;
  const fn = recorder();
  const pool = new DmaPool(fn, { hugepages: 'off' });
  const b = pool.alloc(3 * MiB);
  t.equal(pool.usingHugepages, false);
  t.equal(b.hugepageBacked, false);
  t.equal(b.toPhyr(0, 10).flagsAt(0), 0, 'no HUGEPAGE flag');
  t.equal(warnings.length, before, 'no warning when hugepages are off by choice');
  pool.close();
});

if (!isRoot) {
  const msg =
    '!!! dma-hugepages: NOT ROOT — cannot reserve hugepages (/proc/sys/vm/nr_hugepages), so the ' +
    'hugepage-backed and no-hugepage paths are not both tested here. Run the tests as root.';
  console.error(`\n${'!'.repeat(80)}\n${msg}\n${'!'.repeat(80)}\n`);
  if (process.env.PHYR_REQUIRE_ALL_TIERS === '1') t.fail(msg);
  else t.comment(msg);
} else {
  const original = reservedHugepages();
  t.teardown(() => {
    setReservedHugepages(original);
  });

  t.test('no hugepages reserved: auto falls back with one warning, require throws', async (t) => {
    t.equal(setReservedHugepages(0), 0);
    t.equal(readHugepageStatus().free, 0);
    const before = warnings.length;
    const fn = recorder();
    const pool = new DmaPool(fn, { hugepages: 'auto' });
    t.equal(pool.usingHugepages, false);
    const b = pool.alloc(5 * MiB);
    t.equal(b.hugepageBacked, false);
    b.bytes.fill(0x11);
    t.equal(fn.read(b.iovaAt(5 * MiB - 1), 1)[0], 0x11, 'fallback memory is mapped and reachable');
    await new Promise((r) => setImmediate(r));
    t.equal(warnings.length, before + 1, 'one warning');
    t.match(warnings[warnings.length - 1].message, /phyr setup --hugepages N/);
    t.match(warnings[warnings.length - 1].message, /echo N > \/proc\/sys\/vm\/nr_hugepages/);
    const pool2 = new DmaPool(recorder());
    t.equal(pool2.usingHugepages, false);
    await new Promise((r) => setImmediate(r));
    t.equal(warnings.length, before + 1, 'only once per process');
    const err = t.throws(() => new DmaPool(recorder(), { hugepages: 'require' }));
    t.type(err, HugepagesUnavailableError);
    t.match((err as Error).message, /phyr setup --hugepages N/);
    pool.close();
    pool2.close();
    t.equal(fn.live.size, 0);
  });

  t.test('hugepages reserved: 2 MiB-aligned chunks, HUGEPAGE flag, sub-ranges across hugepages', async (t) => {
    await collect();
    const own0 = ownHugepageBytes();
    // Other test processes take free hugepages too (their pools grab what is free), so
    // reserve beyond the pages in use and take the four this test needs at once, with a
    // wider margin on each retry. Everything checked below is this process's own.
    const take = async (): Promise<{ fn: RecordingFunction; pool: DmaPool; small: DmaBuffer; big: DmaBuffer }> => {
      for (let attempt = 0; ; attempt++) {
        setReservedHugepages(reservedHugepages() - readHugepageStatus().free + 8 + 8 * attempt);
        const fn = recorder();
        let pool: DmaPool | undefined;
        try {
          pool = new DmaPool(fn, { hugepages: 'require' });
          const small = pool.alloc(4096);
          const big = pool.alloc(5 * MiB + 100); // a 6 MiB chunk: three hugepages
          return { fn, pool, small, big };
        } catch (e) {
          pool?.close();
          if (!(e instanceof HugepagesUnavailableError) || attempt === 10) throw e;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    let taken: Awaited<ReturnType<typeof take>> | undefined = await take();
    // In a function of its own, so no local keeps the chunks alive for the check after it.
    ((): void => {
      const { fn, pool, small, big } = taken;
      t.equal(pool.usingHugepages, true);
      t.ok(small.hugepageBacked);
      t.ok(big.hugepageBacked);
      t.equal(ownHugepageBytes() - own0, 4 * 2 * MiB, 'one hugepage for the first chunk, three for the big one');
      const chunk = fn.mappingAt(big.iova)!;
      t.equal(chunk.length, 6 * MiB);
      t.equal(big.iova % (2 * MiB), 0, 'chunk IOVAs are hugepage-aligned');
      t.equal(native.pageOffset(chunk.memory, 0), 0);

      // Misaligned sub-ranges that cross one and two hugepage boundaries: one entry each.
      const out = new PhyrArray();
      const cases: [number, number][] = [
        [2 * MiB - 1, 2],
        [MiB + 3, 2 * MiB],
        [4095, 4 * MiB + 7],
        [1, 5 * MiB + 99],
      ];
      for (const [off, len] of cases) {
        out.clear();
        big.toPhyr(off, len, out);
        t.same(out.toArray(), [{ addr: big.iova + off, len, flags: PhyrFlags.HUGEPAGE }], `[${off}, +${len})`);
        big.bytes[off] = 0xa5;
        big.bytes[off + len - 1] = 0x5a;
        const seen = fn.read(out.addrAt(0), len);
        t.equal(seen[0], 0xa5, 'first byte through the device view');
        t.equal(seen[len - 1], 0x5a, 'last byte through the device view');
      }
      const io = pool.mapForIo(big.bytes.subarray(3, 2 * MiB + 9));
      t.same(io.phyr.toArray(), [{ addr: big.iova + 3, len: 2 * MiB + 6, flags: PhyrFlags.HUGEPAGE }], 'pool memory needs no new mapping');
      io.release();
      pool.close();
      t.equal(fn.live.size, 0);
    })();
    taken = undefined;
    await collect();
    t.equal(ownHugepageBytes(), own0, 'hugepages return to the kernel once the finalizers ran');
  });

  t.test('hugepages run out mid-pool: auto falls back, require throws', async (t) => {
    await collect();
    // Other test processes may take or return hugepages meanwhile, so: leave exactly one
    // free page (retrying until the pool's probe got it), and ask next for more than the
    // whole reserve — a request no change elsewhere can satisfy.
    const withOneFreePage = async (make: () => DmaPool): Promise<DmaPool> => {
      for (let attempt = 0; ; attempt++) {
        setReservedHugepages(reservedHugepages() - readHugepageStatus().free + 1);
        let pool: DmaPool | undefined;
        try {
          pool = make();
        } catch (e) {
          if (!(e instanceof HugepagesUnavailableError) || attempt === 20) throw e; // 'require' found none
        }
        if (pool?.usingHugepages || (pool && attempt === 20)) return pool;
        pool?.close();
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const beyondReserve = (): number => (reservedHugepages() + 1) * 2 * MiB;
    const auto = await withOneFreePage(() => new DmaPool(recorder()));
    t.equal(auto.usingHugepages, true, 'the probe took the free page');
    t.ok(auto.alloc(MiB).hugepageBacked);
    t.equal(auto.alloc(beyondReserve()).hugepageBacked, false, 'the next chunk fell back to 4 KiB pages');
    t.equal(auto.usingHugepages, false);
    auto.close();
    await collect();
    t.equal(ownHugepageBytes(), 0, 'the pages came back after close and collection');
    const strict = await withOneFreePage(() => new DmaPool(recorder(), { hugepages: 'require' }));
    strict.alloc(MiB);
    t.throws(() => strict.alloc(beyondReserve()), HugepagesUnavailableError);
    t.equal(strict.stats().chunks, 1, 'the failed allocation left nothing behind');
    strict.close();
  });
}
