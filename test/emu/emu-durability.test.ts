// Durability on the file backend as documented: a FUA write (CDW12 bit 30, NVMe 1.4 §6.15),
// a Flush (§6.8) and every write while the volatile write cache is disabled (Set Features
// 06h, §5.21.1.6) complete only after fdatasync. Checked two ways: the emulator's own
// counter (stats().syncs) and a system call trace of a child process (strace).
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as phyr from '../../index';
import type { EmuFunction } from '../../emu';
import { adminSqe } from '../../drivers/nvme/admin';
import { NVME } from '../../spec/nvme';

const REQUIRE_ALL = process.env.PHYR_REQUIRE_ALL_TIERS === '1';

function tmpImage(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-durable-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'ns.img');
}

const setVwc = (on: boolean): Uint8Array => adminSqe(NVME.ADMIN_SET_FEATURES, { cdw10: NVME.FEAT_VOLATILE_WRITE_CACHE, cdw11: on ? 1 : 0 });

t.test('stats().syncs: FUA, Flush and VWC=0 each reach a sync before completing', async (t) => {
  const img = tmpImage(t);
  const ctrl = await phyr.open(`emu:backend=file:${img},size=1M`);
  t.teardown(() => ctrl.close());
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  const syncs = (): number => fn.stats().syncs;
  const buf = Buffer.alloc(512, 0x3d);
  for (let i = 0; i < 10; i++) await ns.write(i, buf);
  t.equal(syncs(), 0, 'plain writes with the cache on: no sync');
  for (let i = 0; i < 10; i++) await ns.write(i, buf, { fua: true });
  t.equal(syncs(), 10, '10 FUA writes: 10 syncs');
  await ns.flush();
  t.equal(syncs(), 11, 'Flush: 1');
  await ctrl.adminCommand(setVwc(false));
  t.equal(syncs(), 12, 'turning the cache off syncs what it held');
  for (let i = 0; i < 10; i++) await ns.write(i, buf);
  t.equal(syncs(), 22, '10 writes with the cache off: 10 syncs');
  await ctrl.adminCommand(setVwc(true));
  await ns.write(0, buf);
  t.equal(syncs(), 22, 'cache back on: plain writes stop syncing');
  const ram = await phyr.open('emu:backend=ram,size=1M');
  await ram.namespace(1).write(0, buf, { fua: true });
  await ram.namespace(1).flush();
  t.equal((ram.fn as EmuFunction).stats().syncs, 0, 'ram has nothing to sync');
  await ram.close();
});

t.test('strace: fdatasync calls per phase', async (t) => {
  if (spawnSync('sh', ['-c', 'command -v strace']).status !== 0) {
    const msg = 'strace is needed (apt-get install strace) and missing';
    if (REQUIRE_ALL) t.fail(msg);
    else t.pass(`${msg}: trace case not run (CI, with PHYR_REQUIRE_ALL_TIERS=1, fails instead)`);
    return;
  }
  const img = tmpImage(t);
  const log = `${img}.trace`;
  const child = path.join(__dirname, 'fixtures', 'durability-child.ts');
  const r = spawnSync(
    'strace',
    ['-f', '-qq', '-o', log, '-e', 'trace=fdatasync,fsync,sync_file_range,access,faccessat,faccessat2', process.execPath, ...process.execArgv, child, img],
    { encoding: 'utf8', timeout: 120_000 },
  );
  t.equal(r.status, 0, `child exit status (stderr: ${(r.stderr ?? '').slice(-400)})`);
  const counted = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, number>;
  // Walk the trace: a marker opens or closes a phase; count fdatasync entries inside it.
  const traced: Record<string, number> = {};
  let current: string | undefined;
  let outside = 0;
  let fsyncs = 0;
  for (const line of fs.readFileSync(log, 'utf8').split('\n')) {
    const m = /"\/phyr-durability-mark\/([a-z-]+)-(start|end)"/.exec(line);
    if (m) {
      current = m[2] === 'start' ? m[1] : undefined;
      if (current) traced[current] = 0;
      continue;
    }
    if (/resumed>/.test(line)) continue; // the second half of an interrupted line
    if (/\bfdatasync\(/.test(line)) {
      if (current) traced[current]++;
      else outside++;
    }
    if (/\b(fsync|sync_file_range)\(/.test(line)) fsyncs++;
  }
  const want = { plain: 0, fua: 10, flush: 1, 'vwc-off': 1, 'no-cache': 10, reads: 0 };
  t.same(traced, want, 'fdatasync calls traced per phase');
  t.same(counted, want, 'stats().syncs per phase agrees');
  t.equal(outside, 1, 'one more outside the phases: the shutdown at close()');
  t.equal(fsyncs, 0, 'no other sync call');
});
