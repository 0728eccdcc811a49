// What writes carry, phyr against real fio: the same job writes a 16 MiB image through
// fio (psync on a regular file) and through phyr (the embedded controller's file backend),
// then the images are compared — byte for byte where fio's data is deterministic
// (buffer_pattern, zero_buffers), by structure where it is not (scramble_buffers stamps
// each 512-byte piece with its offset and the time), and by measure where fio draws random
// data (compression ratio with zstd, share of duplicate 4 KiB blocks). Pattern verify
// (verify=pattern, verify_pattern) passes on both and catches an injected corruption.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PHYR_CLI, spawnIn, type Run } from '../helpers/fio-oracle';

const IMAGE_BYTES = 16 << 20;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-buffers-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

t.before(() => {
  if (!fs.existsSync(PHYR_CLI)) throw new Error(`${PHYR_CLI} is missing: run npm run build:ts first`);
  for (const tool of ['fio', 'zstd']) {
    const v = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (v.error || v.status !== 0) throw new Error(`${tool} is not installed: these tests compare phyr's written data with real fio's (apt-get install ${tool})`);
  }
});

/** A fresh image of 0xA5 bytes, so unwritten and zero-written blocks differ. */
function image(name: string): string {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, Buffer.alloc(IMAGE_BYTES, 0xa5));
  return p;
}
function ok(r: Run, what: string): Run {
  if (r.status !== 0) throw new Error(`${what}: exit ${r.status}: ${r.stderr}`);
  return r;
}
const fio = (file: string, args: string[]): Run => spawnIn(tmp, 'fio', ['--ioengine=psync', `--filename=${file}`, ...args]);
const phyr = (file: string, args: string[], faults = ''): Run =>
  spawnIn(tmp, process.execPath, ['--no-warnings', PHYR_CLI, 'bench', `emu:backend=file:${file},size=16M${faults}`, '--eta=never', ...args]);

/** Both write `args` to their own image; returns the two images' bytes. */
function both(args: string[]): { f: Buffer; p: Buffer } {
  const fi = image('fio.img');
  const pi = image('phyr.img');
  ok(fio(fi, args), `fio ${args.join(' ')}`);
  ok(phyr(pi, args), `phyr ${args.join(' ')}`);
  const out = { f: fs.readFileSync(fi), p: fs.readFileSync(pi) };
  fs.rmSync(fi);
  fs.rmSync(pi);
  return out;
}
const jobErr = (r: Run): number => (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: Array<{ error: number }> }).jobs[0].error;

t.test('buffer_pattern: the same bytes as fio, in every form of fio\'s pattern syntax', async (t) => {
  for (const pattern of ['0xdeadbeef', '"abc"', '-12', '66', '0xff0x14"xy"-100xab', '0xabc']) {
    for (const extra of [['--bs=4k'], ['--bs=8k', '--rw=rw', '--rwmixread=0']]) {
      const args = ['--name=w', '--rw=write', ...extra, '--size=2m', `--buffer_pattern=${pattern}`];
      const { f, p } = both(args);
      t.ok(f.equals(p), `${args.join(' ')}: the images are identical`);
      t.not(p[0], 0xa5, 'and the region was written');
    }
  }
});

t.test('buffer_pattern in a job that reads: every write still carries the pattern (refilled), as fio\'s', async (t) => {
  const pattern = Buffer.from('cafef00d', 'hex');
  const block = Buffer.alloc(4096);
  for (let i = 0; i < 4096; i += 4) pattern.copy(block, i);
  const unwritten = Buffer.alloc(4096, 0xa5);
  const { f, p } = both(['--name=m', '--rw=randrw', '--bs=4k', '--size=2m', '--iodepth=4', '--buffer_pattern=0xcafef00d']);
  for (const [who, img] of [['fio', f], ['phyr', p]] as const) {
    let written = 0;
    let other = 0;
    for (let off = 0; off < 2 << 20; off += 4096) {
      const b = img.subarray(off, off + 4096);
      if (b.equals(block)) written++;
      else if (!b.equals(unwritten)) other++;
    }
    t.equal(other, 0, `${who}: every block is the pattern or unwritten`);
    t.ok(written > 100, `${who}: ${written} blocks written with the pattern`);
  }
});

t.test('zero_buffers writes zeros, as fio does', async (t) => {
  const { f, p } = both(['--name=w', '--rw=write', '--bs=16k', '--size=1m', '--zero_buffers']);
  t.ok(f.equals(p), 'identical images');
  t.ok(p.subarray(0, 1 << 20).every((b) => b === 0), 'the written MiB is zeros');
  t.ok(p.subarray(1 << 20).every((b) => b === 0xa5), 'the rest untouched');
});

/** In how many 512-byte pieces of `buf` the piece's own byte offset sits at a 64-byte line. */
function stampedPieces(buf: Buffer, bytes: number): number {
  let n = 0;
  for (let off = 0; off < bytes; off += 512) {
    for (let line = 0; line < 8; line++) {
      if (buf.readBigUInt64LE(off + 64 * line) === BigInt(off)) {
        n++;
        break;
      }
    }
  }
  return n;
}

t.test('by default writes are random and scrambled (offset stamped in every 512-byte piece), as fio\'s', async (t) => {
  const bytes = 2 << 20;
  const { f, p } = both(['--name=w', '--rw=write', '--bs=4k', '--size=2m']);
  t.equal(stampedPieces(f, bytes), bytes / 512, 'fio stamps every piece');
  t.equal(stampedPieces(p, bytes), bytes / 512, 'phyr stamps every piece');
  // Data between the stamps is random: a block does not compress (the image as a whole
  // does: without refill_buffers every write reuses the buffer filled once).
  t.ok(compressedShare(p.subarray(0, 4096)) > 0.95, 'phyr\'s block does not compress');
  t.ok(compressedShare(f.subarray(0, 4096)) > 0.95, 'nor does fio\'s');
  const off = both(['--name=w', '--rw=write', '--bs=4k', '--size=2m', '--scramble_buffers=0']);
  t.equal(stampedPieces(off.p, bytes), 0, 'scramble_buffers=0: no stamps (phyr)');
  t.equal(stampedPieces(off.f, bytes), 0, 'scramble_buffers=0: no stamps (fio)');
  // Without refill, every write repeats the buffer it was filled with once: with one
  // slot (iodepth 1), every 4 KiB block of the image is the same, on both.
  const blocks = (b: Buffer) => new Set(Array.from({ length: bytes / 4096 }, (_, i) => b.subarray(i * 4096, (i + 1) * 4096).toString('hex'))).size;
  t.equal(blocks(off.p), 1, 'phyr: one buffer, filled once');
  t.equal(blocks(off.f), 1, 'fio: one buffer, filled once');
  const refill = both(['--name=w', '--rw=write', '--bs=4k', '--size=2m', '--refill_buffers']);
  t.equal(blocks(refill.p), bytes / 4096, 'refill_buffers: every phyr block differs');
  t.equal(blocks(refill.f), bytes / 4096, 'refill_buffers: every fio block differs');
});

/** zstd's output size over the input size. */
function compressedShare(buf: Buffer): number {
  const r = spawnSync('zstd', ['-3', '-c', '-q'], { input: buf, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr}`);
  return r.stdout.length / buf.length;
}

t.test('buffer_compress_percentage (+ _chunk): the data compresses as fio\'s does, within 3 points', async (t) => {
  const bytes = 4 << 20;
  for (const c of [['--buffer_compress_percentage=50'], ['--buffer_compress_percentage=75', '--buffer_compress_chunk=4k'], ['--buffer_compress_percentage=30', '--bs=64k', '--buffer_compress_chunk=0'], ['--buffer_compress_percentage=60', '--buffer_pattern=0x1234']]) {
    const args = ['--name=w', '--rw=write', '--bs=4k', '--size=4m', ...c];
    const { f, p } = both(args);
    const fs_ = compressedShare(f.subarray(0, bytes));
    const ps = compressedShare(p.subarray(0, bytes));
    t.ok(Math.abs(fs_ - ps) <= 0.03, `${c.join(' ')}: compressed to ${(ps * 100).toFixed(1)} % (fio ${(fs_ * 100).toFixed(1)} %)`);
  }
  const full = both(['--name=w', '--rw=write', '--bs=4k', '--size=1m', '--buffer_compress_percentage=100']);
  t.ok(full.f.equals(full.p), 'buffer_compress_percentage=100: zeros, identical images');
});

/** The share of `bytes`' 4 KiB blocks that repeat an earlier block. */
function duplicateShare(buf: Buffer, bytes: number): number {
  const seen = new Set<string>();
  let dup = 0;
  for (let off = 0; off < bytes; off += 4096) {
    const k = buf.subarray(off, off + 4096).toString('base64');
    if (seen.has(k)) dup++;
    else seen.add(k);
  }
  return dup / (bytes / 4096);
}

t.test('dedupe_percentage: the share of duplicate 4 KiB blocks is fio\'s, within 5 points', async (t) => {
  const bytes = 8 << 20;
  for (const pct of [0, 25, 50, 90]) {
    const { f, p } = both(['--name=w', '--rw=write', '--bs=4k', '--size=8m', `--dedupe_percentage=${pct}`]);
    const fd = duplicateShare(f, bytes);
    const pd = duplicateShare(p, bytes);
    t.ok(Math.abs(fd - pd) <= 0.05, `dedupe_percentage=${pct}: phyr ${(pd * 100).toFixed(1)} % duplicates, fio ${(fd * 100).toFixed(1)} %`);
    t.ok(Math.abs(pd - pct / 100) <= 0.05, `and near the asked ${pct} %`);
  }
});

/** How many distinct 4 KiB blocks of `bytes` occur more than once (a working set's pages). */
function repeatedBlocks(buf: Buffer, bytes: number): number {
  const count = new Map<string, number>();
  for (let off = 0; off < bytes; off += 4096) {
    const k = buf.subarray(off, off + 4096).toString('base64');
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  return [...count.values()].filter((n) => n > 1).length;
}

t.test('dedupe_mode=working_set: fio\'s share of duplicates, drawn from a working set of fio\'s size', async (t) => {
  const bytes = 8 << 20;
  // Measured on fio 3.33: the duplicate share is dedupe_percentage whatever the working
  // set, and the repeated blocks are the working set's pages (20 for 1 %, 102 for 5 % of
  // 2048 pages; at 20 % some of its 409 pages are drawn once or never).
  for (const [pct, ws] of [[50, 5], [90, 1], [50, 1], [50, 20]]) {
    const { f, p } = both(['--name=w', '--rw=write', '--bs=4k', '--size=8m', `--dedupe_percentage=${pct}`, '--dedupe_mode=working_set', `--dedupe_working_set_percentage=${ws}`]);
    const fd = duplicateShare(f, bytes);
    const pd = duplicateShare(p, bytes);
    t.ok(Math.abs(fd - pd) <= 0.05, `pct ${pct} ws ${ws}: phyr ${(pd * 100).toFixed(1)} % duplicates, fio ${(fd * 100).toFixed(1)} %`);
    const fr = repeatedBlocks(f, bytes);
    const pr = repeatedBlocks(p, bytes);
    t.ok(Math.abs(fr - pr) <= Math.max(2, 0.15 * fr), `pct ${pct} ws ${ws}: ${pr} repeated blocks, fio ${fr}`);
  }
  // The working set is unique pages: over 100 - dedupe_percentage fio cannot reach the
  // share (it says so, then writes one block's data everywhere); phyr refuses.
  const r = phyr(image('phyr.img'), ['--name=w', '--rw=write', '--bs=4k', '--size=1m', '--dedupe_percentage=90', '--dedupe_mode=working_set', '--dedupe_working_set_percentage=20']);
  t.equal(r.status, 2);
  t.match(r.stderr, /dedupe_working_set_percentage=20 with dedupe_percentage=90: .*at most 10 %/);
});

t.test('verify=pattern and verify_pattern: pass on both, and a corrupted block is EILSEQ (84) as fio reports it', async (t) => {
  for (const v of [['--verify=pattern', '--verify_pattern=0xdeadbeef'], ['--verify_pattern=0x1122334455'], ['--verify=crc32c', '--verify_pattern="phyr"']]) {
    const args = ['--name=v', '--rw=write', '--bs=4k', '--size=1m', ...v, '--output-format=json'];
    const fi = image('fio.img');
    const pi = image('phyr.img');
    t.equal(jobErr(ok(fio(fi, args), 'fio')), 0, `fio ${v.join(' ')}: verified`);
    const clean = phyr(pi, args);
    t.equal(clean.status, 0, `phyr ${v.join(' ')}: verified`);
    t.equal(jobErr(clean), 0);
    const bad = phyr(pi, args, ',faults=corrupt:lba=40:byte=300');
    t.equal(bad.status, 1, `${v.join(' ')}: the corruption fails the run`);
    t.equal(jobErr(bad), 84, 'EILSEQ, as fio');
    t.match(bad.stderr, /verify failed: 1 block\(s\) did not match what was written; the first at LBA 40/);
    fs.rmSync(fi);
    fs.rmSync(pi);
  }
  // verify=pattern: the blocks hold the pattern alone, as fio's.
  const { f, p } = both(['--name=v', '--rw=write', '--bs=4k', '--size=1m', '--verify=pattern', '--verify_pattern=0xdeadbeef']);
  t.ok(f.subarray(0, 1 << 20).equals(p.subarray(0, 1 << 20)), 'verify=pattern: the written MiB is identical to fio\'s');
});

t.test('verify=pattern across the tools: fio checks what phyr wrote, phyr checks what fio wrote', async (t) => {
  const v = ['--verify=pattern', '--verify_pattern=0xdeadbeef', '--bs=4k', '--size=1m', '--output-format=json'];
  const byPhyr = image('phyr.img');
  t.equal(ok(phyr(byPhyr, ['--name=w', '--rw=write', ...v]), 'phyr writes').status, 0);
  t.equal(jobErr(ok(fio(byPhyr, ['--name=r', '--rw=read', ...v]), 'fio reads')), 0, 'fio verifies phyr\'s blocks');
  const byFio = image('fio.img');
  ok(fio(byFio, ['--name=w', '--rw=write', ...v]), 'fio writes');
  const read = phyr(byFio, ['--name=r', '--rw=read', ...v]);
  t.equal(read.status, 0, 'phyr verifies fio\'s blocks');
  t.equal(jobErr(read), 0);
  // The unwritten rest of fio's image (0xA5) is not the pattern: both tools say so.
  const beyond = ['--name=r', '--rw=read', '--offset=1m', ...v];
  t.equal(jobErr(fio(byFio, beyond)), 84, 'fio: EILSEQ on blocks without the pattern');
  const bad = phyr(byFio, beyond);
  t.equal(bad.status, 1);
  t.equal(jobErr(bad), 84, 'phyr: EILSEQ, as fio');
  fs.rmSync(byPhyr);
  fs.rmSync(byFio);
});

t.test('what phyr refuses, it names', async (t) => {
  const pi = image('phyr.img');
  const cases: Array<[string[], RegExp]> = [
    [['--verify=pattern'], /verify=pattern checks verify_pattern: give verify_pattern=/],
    [['--buffer_pattern=%o'], /buffer_pattern.*%o .*verify_pattern only/],
    [['--buffer_pattern="abc'], /buffer_pattern.*no closing "/],
    [['--buffer_pattern=0x' + 'ab'.repeat(513)], /longer than 512 bytes/],
    [['--dedupe_mode=clone', '--dedupe_percentage=10'], /dedupe_mode.*expected repeat or working_set/],
    [['--dedupe_working_set_percentage=101'], /dedupe_working_set_percentage.*between 0 and 100/],
    [['--buffer_compress_percentage=101'], /buffer_compress_percentage.*between 0 and 100/],
  ];
  for (const [extra, want] of cases) {
    const r = phyr(pi, ['--name=w', '--rw=write', '--bs=4k', '--size=64k', ...extra]);
    t.equal(r.status, 2, extra.join(' '));
    t.match(r.stderr, want, extra.join(' '));
  }
});
