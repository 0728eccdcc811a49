// emu:dbbuf=on: the embedded controller offers shadow doorbells (Doorbell Buffer Config) and
// the real driver uses them — IO and verified benchmarks pass, the device's counters show
// the doorbells moving from MMIO to the shadow page, and a reset, a device fault and a
// close with IO in flight stay clean.
import t, { type Test } from 'tap';
import * as phyr from '../../index';
import { parseBenchArgs } from '../../bench/cli/config';
import { openBenchDevice } from '../../bench/cli/device';
import { runJobs } from '../../bench/cli/runner';
import { EmuTargetError, parseEmuTarget, type EmuFunction, type EmuStats } from '../../emu';
import { NVME } from '../../spec/nvme';

const quiet = { isTty: false, write: () => undefined };

function stats(ctrl: phyr.Controller): EmuStats {
  return (ctrl.fn as EmuFunction).stats();
}

// Writes then reads back `count` blocks of 4 KiB, each with its own pattern.
async function writeReadBack(t: Test, ctrl: phyr.Controller, count: number): Promise<void> {
  const ns = ctrl.namespace(1);
  const buf = ctrl.pool.alloc(4096);
  try {
    for (let i = 0; i < count; i++) {
      buf.bytes.fill(i & 0xff);
      await ns.write(i * 8, buf);
    }
    let bad = 0;
    for (let i = 0; i < count; i++) {
      buf.bytes.fill(0xee);
      await ns.read(i * 8, buf);
      if (!buf.bytes.every((b) => b === (i & 0xff))) bad++;
    }
    t.equal(bad, 0, `${count} blocks read back as written`);
  } finally {
    buf.free();
  }
}

t.test('the target key: on, off, default off, anything else refused naming the key', async (t) => {
  t.equal(parseEmuTarget('emu').dbbuf, false);
  t.equal(parseEmuTarget('emu:dbbuf=on').dbbuf, true);
  t.equal(parseEmuTarget('emu:dbbuf=off').dbbuf, false);
  t.throws(() => parseEmuTarget('emu:dbbuf=yes'), EmuTargetError);
  t.throws(() => parseEmuTarget('emu:dbbuf=1'), { key: 'dbbuf', message: /dbbuf=1: expected on .* or off/ });
});

t.test('without the key the controller does not offer them; the driver keeps MMIO doorbells', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M');
  t.teardown(() => ctrl.close());
  t.equal(ctrl.shadowDoorbells, false);
  t.equal(ctrl.shadowDoorbellsRefused, undefined, 'not offered, so nothing was refused');
  await writeReadBack(t, ctrl, 8);
  t.equal(stats(ctrl).shadowDoorbellUpdates, 0);
});

t.test('dbbuf=on: IO runs through the shadow page, MMIO doorbell writes stop', async (t) => {
  const seen: Record<string, { mmio: number; shadow: number; io: number }> = {};
  for (const shadowDoorbells of [true, false]) {
    const ctrl = await phyr.open('emu:backend=ram,size=16M,dbbuf=on', { shadowDoorbells });
    try {
      t.equal(ctrl.shadowDoorbells, shadowDoorbells, `shadowDoorbells: ${shadowDoorbells}`);
      t.equal(ctrl.shadowDoorbellsRefused, undefined);
      const before = stats(ctrl);
      await writeReadBack(t, ctrl, 200);
      const after = stats(ctrl);
      seen[String(shadowDoorbells)] = {
        mmio: after.mmioDoorbellUpdates - before.mmioDoorbellUpdates,
        shadow: after.shadowDoorbellUpdates - before.shadowDoorbellUpdates,
        io: after.ioCommands - before.ioCommands,
      };
      t.equal(after.invalidDoorbells, 0);
      t.equal((ctrl.fn as EmuFunction).faultCount(), 0);
    } finally {
      await ctrl.close();
    }
  }
  const on = seen.true;
  const off = seen.false;
  t.equal(on.io, 400);
  t.equal(off.io, 400);
  // Each command: one SQ tail and one CQ head update (sampled, so at most that many seen).
  t.ok(on.shadow >= 400 && on.shadow <= 800, `shadow updates seen with shadow doorbells: ${on.shadow}`);
  // The device never asks for an MMIO write; the driver still rings when the device took its
  // new value between the driver's shadow store and its EventIdx load and had already moved
  // EventIdx (a host thread descheduled there): measured 0-6 of 800 updates on a loaded host.
  t.ok(on.mmio * 20 < off.mmio, `MMIO doorbell updates with shadow doorbells: ${on.mmio}, without: ${off.mmio}`);
  t.equal(off.shadow, 0, 'none in the shadow page without them');
  t.ok(off.mmio >= 400, `MMIO doorbell updates without them: ${off.mmio}`);
});

t.test('phyr bench --verify=crc32c passes with shadow doorbells on and off', async (t) => {
  const mmioSeen: Record<string, number> = {};
  for (const shadowDoorbells of [true, false]) {
    const cfg = parseBenchArgs(['emu:backend=ram,size=16M,dbbuf=on', '--name=v', '--rw=randwrite', '--bs=4k', '--iodepth=32', '--size=4m', '--verify=crc32c']);
    const d = await openBenchDevice(cfg.target, cfg.jobs, { shadowDoorbells });
    try {
      t.equal(d.controller.shadowDoorbells, shadowDoorbells);
      const before = stats(d.controller);
      const [r] = await runJobs(d, cfg.jobs, cfg.run, quiet);
      t.equal(r.error, 0, r.errorMessage ?? 'no error');
      t.equal(r.write.bytes, 4 << 20, 'wrote the whole size');
      t.equal(r.read.bytes, 4 << 20, 'and verified it all');
      const after = stats(d.controller);
      const mmio = after.mmioDoorbellUpdates - before.mmioDoorbellUpdates;
      const io = after.ioCommands - before.ioCommands;
      t.equal(io, 2048, 'the device ran every write and verifying read');
      mmioSeen[String(shadowDoorbells)] = mmio;
      t.equal(d.facts.iommuFaults(), 0);
    } finally {
      await d.close();
    }
  }
  // Sampled counts (a batch of 32 doorbell writes between two passes counts once): without
  // shadow doorbells the device sees well over 50 of them. With them the driver rings only
  // in the race described above (its thread descheduled between the shadow store and the
  // EventIdx load): 0-17 of the 2048 commands were measured in CI, against 128-203 sampled
  // without, so the bound is against the command count, and below the run without.
  t.ok(mmioSeen.false >= 50, `shadow off: ${mmioSeen.false} MMIO doorbell updates seen`);
  t.ok(mmioSeen.true * 20 < 2048 && mmioSeen.true < mmioSeen.false, `shadow on: ${mmioSeen.true} MMIO doorbell updates seen for 2048 commands (${mmioSeen.false} without)`);
});

t.test('a reset while shadowed: the driver configures the pages again and IO continues on them', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M,dbbuf=on');
  t.teardown(() => ctrl.close());
  await writeReadBack(t, ctrl, 16);
  const configs = () => stats(ctrl).adminOpcodes[String(NVME.ADMIN_DOORBELL_BUFFER_CONFIG)] ?? 0;
  t.equal(configs(), 1);
  const pending = Array.from({ length: 16 }, (_, i) => ctrl.namespace(1).read(i, Buffer.alloc(512)).then(() => 'ok', (e: unknown) => e));
  await ctrl.reset('test');
  for (const r of await Promise.all(pending)) t.ok(r === 'ok' || r instanceof phyr.ControllerResetError, `in-flight read settled: ${String(r)}`);
  t.equal(configs(), 2, 'Doorbell Buffer Config sent again after the reset');
  t.equal(ctrl.shadowDoorbells, true);
  const before = stats(ctrl);
  await writeReadBack(t, ctrl, 16);
  const after = stats(ctrl);
  t.ok(after.shadowDoorbellUpdates - before.shadowDoorbellUpdates >= 32, 'IO after the reset uses the shadow page');
  t.ok(after.mmioDoorbellUpdates - before.mmioDoorbellUpdates <= 6, 'and (almost) no MMIO doorbells: 64 updates');
  t.equal((ctrl.fn as EmuFunction).faultCount(), 0);
});

t.test('a device fault while shadowed: recovery, then shadowed IO again', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M,dbbuf=on', { timeoutMs: 200 });
  t.teardown(() => ctrl.close());
  const fn = ctrl.fn as EmuFunction;
  fn.inject('cfs');
  const r = await ctrl.namespace(1).read(0, Buffer.alloc(512)).then(() => 'ok', (e: unknown) => e);
  t.ok(r instanceof phyr.ControllerResetError || r instanceof phyr.ControllerResettingError, `settles with a reset error (${String(r)})`);
  await ctrl.ready();
  t.equal(ctrl.recovery.resets, 1);
  await writeReadBack(t, ctrl, 16);
  t.equal(fn.faultCount(), 0);
});

t.test('close with IO in flight on shadow doorbells settles everything, and leaves no fault', async (t) => {
  for (let round = 0; round < 3; round++) {
    const ctrl = await phyr.open('emu:backend=null,size=16M,dbbuf=on');
    const fn = ctrl.fn as EmuFunction;
    const pending = Array.from({ length: 64 }, (_, i) => ctrl.namespace(1).read(i * 8, Buffer.alloc(4096)).then(() => 'ok', (e: unknown) => e));
    await new Promise((r) => setImmediate(r));
    const faultsBefore = fn.faultCount();
    await ctrl.close();
    const results = await Promise.all(pending);
    t.equal(results.filter((x) => x !== 'ok' && !(x instanceof Error)).length, 0, `round ${round}: every read settled`);
    t.equal(faultsBefore, 0, `round ${round}: no IOMMU fault while running`);
  }
});
