// verify=meta against real fio 3.33: meta is fio's VERIFY_HDR_ONLY (verify.c) — the header
// of each block is checked, the data after it is not (unless verify_pattern is given).
// fio: a file written with verify=meta, one byte changed, then read back with
// verify_only=1; phyr: the embedded controller corrupts one byte of a block on the way
// back (corrupt:lba=L:byte=B). A byte past the header passes both; a header byte fails both.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseBenchArgs } from '../../bench/cli/config';
import { openBenchDevice } from '../../bench/cli/device';
import { runJobs } from '../../bench/cli/runner';
import type { JobResult } from '../../bench/cli/results';
import type { EmuFunction } from '../../emu';

const quiet = { isTty: false, write: () => undefined };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-meta-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

const probe = spawnSync('fio', ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) throw new Error('real fio is required for these differential tests (install the fio package)');

/** fio's error code after writing with `verify`, changing the byte at `at`, and reading back. */
function fioAfterCorrupting(verify: string, at: number): number {
  const file = path.join(tmp, 'ns.img');
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, '');
  fs.truncateSync(file, 4 << 20);
  const common = ['--name=m', `--filename=${file}`, '--ioengine=psync', '--bs=4k', '--size=1m', `--verify=${verify}`, '--output-format=json'];
  const w = spawnSync('fio', [...common, '--rw=write', '--do_verify=0'], { encoding: 'utf8' });
  if (w.status !== 0) throw new Error(`fio write: ${w.stderr}`);
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, at);
  b[0] ^= 0xff;
  fs.writeSync(fd, b, 0, 1, at);
  fs.closeSync(fd);
  const r = spawnSync('fio', [...common, '--rw=read', '--verify_only=1'], { encoding: 'utf8' });
  return (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: Array<{ error: number }> }).jobs[0].error;
}

/** phyr's result when the controller corrupts byte `byte` of LBA `lba` on reads. */
async function phyrCorrupting(verify: string[], lba: number, byte: number): Promise<JobResult> {
  const target = 'emu:backend=ram,size=4M';
  const cfg = parseBenchArgs([target, '--name=m', '--rw=write', '--bs=4k', '--size=1m', ...verify]);
  const d = await openBenchDevice(cfg.target, cfg.jobs);
  try {
    (d.controller.fn as EmuFunction).inject(`corrupt:lba=${lba}:byte=${byte}`);
    const [r] = await runJobs(d, cfg.jobs, cfg.run, quiet);
    return r;
  } finally {
    await d.close();
  }
}

t.test('verify=meta is accepted as fio 3.33 accepts it', async (t) => {
  const f = spawnSync('fio', ['--name=m', '--filename=/dev/null', '--verify=meta', '--parse-only'], { encoding: 'utf8' });
  t.equal(f.status, 0, 'fio takes verify=meta');
  t.equal(parseBenchArgs(['emu', '--name=m', '--verify=meta']).jobs[0].verify, 'meta');
});

t.test('a changed data byte: meta passes it, crc32c does not (fio and phyr)', async (t) => {
  // fio: the block at 8192, 1000 bytes in (past fio's header). phyr: LBA 16 (512-byte
  // blocks, 8192 bytes in), byte 300 (past phyr's 48-byte header).
  t.equal(fioAfterCorrupting('meta', 8192 + 1000), 0, 'fio verify=meta: no error');
  t.not(fioAfterCorrupting('crc32c', 8192 + 1000), 0, 'fio verify=crc32c: an error');
  const meta = await phyrCorrupting(['--verify=meta'], 16, 300);
  t.equal(meta.verifyErrors, 0, 'phyr verify=meta: no error');
  t.ok(meta.verifyChecked > 0, `phyr checked ${meta.verifyChecked} blocks`);
  const crc = await phyrCorrupting(['--verify=crc32c'], 16, 300);
  t.ok(crc.verifyErrors > 0, 'phyr verify=crc32c: an error');
});

t.test('a changed header byte fails meta (fio and phyr)', async (t) => {
  t.not(fioAfterCorrupting('meta', 8192 + 20), 0, 'fio verify=meta: an error');
  const meta = await phyrCorrupting(['--verify=meta'], 16, 20);
  t.ok(meta.verifyErrors > 0, 'phyr verify=meta: an error');
  t.match(meta.verifyFailures[0]?.reason ?? '', /header|LBA|stale|seed/, meta.verifyFailures[0]?.reason);
});

t.test('verify=meta with verify_pattern checks the pattern too (fio VERIFY_HDR_ONLY)', async (t) => {
  const clean = await phyrCorrupting(['--verify=meta', '--verify_pattern=0x5a'], 8000, 0);
  t.equal(clean.verifyErrors, 0, 'clean');
  const bad = await phyrCorrupting(['--verify=meta', '--verify_pattern=0x5a'], 16, 300);
  t.ok(bad.verifyErrors > 0, 'a changed pattern byte is caught');
  t.match(bad.verifyFailures[0]?.reason ?? '', /pattern/);
});
