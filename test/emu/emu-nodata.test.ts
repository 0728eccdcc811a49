// emu:backend=nodata: reads leave the host buffer as it was (null reads zeros), the data
// pointer is still checked, a benchmark runs on it, and a verify job is refused with a
// message saying why and what to use instead.
import t from 'tap';
import * as phyr from '../../index';
import { parseBenchArgs } from '../../bench/cli/config';
import { openBenchDevice } from '../../bench/cli/device';
import { runJobs } from '../../bench/cli/runner';
import { run } from '../../tools/commands/bench';
import { EmuArena, openEmu, parseEmuTarget, type EmuFunction } from '../../emu';
import { NVME } from '../../spec/nvme';
import { RawController, statusField } from '../../conformance/raw-queue';

const quiet = { isTty: false, write: () => undefined };

t.test('the target parser names nodata', async (t) => {
  t.equal(parseEmuTarget('emu:backend=nodata').backend, 'nodata');
});

t.test('a read on nodata leaves the buffer as it was; on null it reads zeros', async (t) => {
  for (const [backend, expect] of [['nodata', 0xab], ['null', 0]] as const) {
    const ctrl = await phyr.open(`emu:backend=${backend},size=16M`);
    try {
      const buf = ctrl.pool.alloc(8192);
      buf.bytes.fill(0xab);
      await ctrl.namespace(1).write(0, buf);
      await ctrl.namespace(1).read(0, buf);
      t.ok(buf.bytes.every((b) => b === expect), `backend=${backend}: every byte is ${expect}`);
      t.equal((ctrl.fn as EmuFunction).stats().bytesRead, 8192, `backend=${backend}: the read was counted`);
      buf.free();
    } finally {
      await ctrl.close();
    }
  }
});

t.test('the data pointer stays checked: PRP offsets and unmapped memory fail as on any backend', async (t) => {
  const fn = openEmu('emu:backend=nodata,size=16M');
  const arena = new EmuArena(fn);
  const raw = new RawController(fn, arena);
  t.teardown(async () => {
    await raw.close();
    arena.close();
    fn.close();
  });
  t.equal(await raw.enable(), 'ready');
  await raw.setNumberOfQueues(1, 1);
  const q = await raw.createIoQueuePair(1, 16);
  const buf = raw.alloc(8192);
  buf.bytes.fill(0x3c);
  const ok = await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: buf.iova, dptr2: buf.iovaAt(4096), cdw12: 15 });
  t.equal(ok.status, 0);
  t.ok(buf.bytes.every((b) => b === 0x3c), 'the buffer kept what it held');
  const misaligned = await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: buf.iova + 2, cdw12: 0 });
  t.equal(misaligned.status, statusField(NVME.SCT_GENERIC, NVME.SC_PRP_OFFSET_INVALID));
  const unmapped = await q.run({ opcode: NVME.IO_READ, nsid: 1, dptr1: 0x7000000, cdw12: 7 });
  t.equal(unmapped.status, statusField(NVME.SCT_GENERIC, NVME.SC_DATA_TRANSFER_ERROR));
  t.match(fn.faultLog(), [{ iova: 0x7000000, length: 4096, access: 'write', site: 'data', sqid: 1, opcode: NVME.IO_READ }]);
  await raw.deleteIoQueuePair(1);
});

t.test('a benchmark runs on nodata and every IO reaches the device', async (t) => {
  const cfg = parseBenchArgs(['emu:backend=nodata', '--name=rr', '--rw=randread', '--iodepth=16', '--runtime=200ms', '--time_based']);
  const d = await openBenchDevice(cfg.target, cfg.jobs);
  try {
    const [r] = await runJobs(d, cfg.jobs, cfg.run, quiet);
    t.equal(r.error, 0, r.errorMessage ?? 'no error');
    t.ok(r.read.ios > 1000, `${r.read.ios} reads`);
    t.ok((d.controller.fn as EmuFunction).stats().ioCommands >= r.read.ios, 'the device saw the IOs');
  } finally {
    await d.close();
  }
});

t.test('a verify job on nodata is refused, saying why and what to use', async (t) => {
  const cfg = parseBenchArgs(['emu:backend=nodata', '--name=v', '--rw=randwrite', '--size=1m', '--verify=crc32c']);
  await t.rejects(openBenchDevice(cfg.target, cfg.jobs), {
    code: 'PHYR_BENCH_UNSUPPORTED_OPTION',
    message: /job 'v': --verify=crc32c cannot check data on emu:backend=nodata, which moves no data .*verify on emu:backend=ram/,
  });
  const errors: string[] = [];
  const origErr = console.error;
  console.error = (...a: unknown[]) => void errors.push(a.join(' '));
  t.teardown(() => void (console.error = origErr));
  t.equal(await run(['emu:backend=nodata', '--name=v', '--rw=randwrite', '--size=1m', '--verify=md5']), 2);
  t.match(errors.pop(), /--verify=md5 cannot check data on emu:backend=nodata/);
  // fio's null engine on an emu TARGET points at phyr's own null target, its twin.
  t.equal(await run(['emu', '--name=a', '--ioengine=null']), 2);
  t.match(errors.pop(), /fio's null engine does no IO; phyr's twin of it is the TARGET null: phyr bench null FILE/);
  // verify=null checks nothing: it runs.
  t.equal(await run(['emu:backend=nodata', '--name=n', '--rw=write', '--size=256k', '--verify=null', '--output-format=json', '--output=/dev/null']), 0);
});
