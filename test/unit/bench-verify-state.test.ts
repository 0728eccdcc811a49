// fio 3.33's verify state file (version 3), against fio itself: phyr reads the file fio
// writes at the end of a verifying write job, writes it back byte for byte, and fio's own
// reader (fio-verify-state, in Debian's fio package) reads the files phyr writes.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { decodeVerifyState, encodeVerifyState, verifyStateFileName, type VerifyState } from '../../bench/cli/verify-state';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-verify-state-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

for (const tool of ['fio', 'fio-verify-state']) {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`]);
  if (r.status !== 0) throw new Error(`${tool} is required (Debian's fio package): these tests compare with fio's own files and reader`);
}

/** What fio-verify-state prints about a file, as fields. */
function fioReads(file: string): { status: number | null; out: string; name?: string; depth?: number; numberio?: number; index?: number; comps: number[] } {
  const r = spawnSync('fio-verify-state', [file], { encoding: 'utf8' });
  const out = r.stdout + r.stderr;
  const field = (k: string) => /^(.*)$/.exec(out.split('\n').find((l) => l.startsWith(`${k}:`))?.split('\t').filter(Boolean)[1] ?? '')?.[1];
  const comps = [...out.matchAll(/\(file=\s*\d+\) (\d+)/g)].map((m) => Number(m[1]));
  return { status: r.status, out, name: field('Name'), depth: Number(field('Depth')), numberio: Number(field('Number IOs')), index: Number(field('Index')), comps };
}

t.test('the file fio writes: phyr reads it and writes the same bytes back', async (t) => {
  const img = path.join(tmp, 'img');
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 4 << 20);
  const r = spawnSync('fio', ['--name=vs/job', `--filename=${img}`, '--ioengine=psync', '--rw=write', '--bs=4k', '--size=256k', '--verify=crc32c', '--do_verify=0', '--iodepth=4'], { cwd: tmp, encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const file = path.join(tmp, verifyStateFileName('vs/job', 0));
  t.equal(path.basename(file), 'local-vs.job-0-verify.state', "fio's name: '/' turned into '.'");
  t.ok(fs.existsSync(file), 'fio wrote it under that name');
  const bytes = fs.readFileSync(file);
  const s = decodeVerifyState(bytes);
  t.same(s, { name: 'vs/job', index: 0, depth: 4, nofiles: 1, numberio: 64, comps: [258048, 253952, 249856, 245760].map((offset) => ({ fileno: 0, offset })) });
  t.ok(encodeVerifyState(s).equals(bytes), 'encoded again: the same bytes');
  const f = fioReads(file);
  t.same(f.comps, [245760, 249856, 253952, 258048], 'fio-verify-state lists the completions oldest first');
});

t.test("fio-verify-state reads phyr's files", async (t) => {
  const cases: VerifyState[] = [
    { name: 'w', index: 0, depth: 1, nofiles: 1, numberio: 0, comps: [] },
    { name: 'phyr-job', index: 3, depth: 8, nofiles: 1, numberio: 1000, comps: [7, 6, 5, 4, 3].map((k) => ({ fileno: 0, offset: k * 65536 })) },
    { name: 'x'.repeat(70), index: 1, depth: 2, nofiles: 1, numberio: 2 ** 40, comps: [{ fileno: 0, offset: 2 ** 40 * 4096 }] },
  ];
  for (const s of cases) {
    const file = path.join(tmp, verifyStateFileName(s.name, s.index));
    fs.writeFileSync(file, encodeVerifyState(s));
    const f = fioReads(file);
    t.equal(f.status, 0, `${s.name.slice(0, 10)}: fio-verify-state exits 0 (${f.out.split('\n')[0]})`);
    t.notMatch(f.out, /mismatch|Unsupported/i, 'no complaint');
    t.equal(f.name, s.name.slice(0, 63), 'name (fio keeps 63 bytes)');
    t.same([f.depth, f.numberio, f.index], [s.depth, s.numberio, s.index], 'depth, number of IOs, index');
    t.same(f.comps, s.comps.map((c) => c.offset).reverse(), 'completions');
    t.same(decodeVerifyState(fs.readFileSync(file)), { ...s, name: s.name.slice(0, 63) }, 'phyr reads it back');
  }
});

t.test('a damaged file: fio-verify-state and phyr both refuse it', async (t) => {
  const good = encodeVerifyState({ name: 'd', index: 0, depth: 4, nofiles: 1, numberio: 9, comps: [{ fileno: 0, offset: 4096 }] });
  const flipped = Buffer.from(good);
  flipped[24 + 16] ^= 1; // numberio
  const file = path.join(tmp, 'damaged.state');
  fs.writeFileSync(file, flipped);
  t.match(fioReads(file).out, /crc mismatch/, 'fio: crc mismatch');
  t.throws(() => decodeVerifyState(flipped), { code: 'PHYR_BENCH_BAD_VERIFY_STATE', message: /CRC-32C mismatch/ });
  const v2 = Buffer.from(good);
  v2[0] = 2;
  t.throws(() => decodeVerifyState(v2), /version 2/);
  t.throws(() => decodeVerifyState(good.subarray(0, 100)), /shorter/);
  t.throws(() => decodeVerifyState(good.subarray(0, good.length - 16)), /follow/);
});
