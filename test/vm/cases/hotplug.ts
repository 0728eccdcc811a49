// Surprise removal through VFIO: a QEMU NVMe controller behind a hotplug-capable PCIe
// root port is unplugged while phyr has IO in flight on it and on a second controller.
// Expected (docs/DRIVER.md): pending IO on the removed controller fails with
// DeviceGoneError within the command timeout, later IO too; nothing hangs or crashes;
// the other controller keeps working; close() completes.
//
// How the removal is made: the host sends QEMU's monitor `device_del` (a marker line on
// the console; test/vm/runner.ts forwards it to QMP). QEMU only asks the guest to let the
// device go (an ACPI eject request or the slot's attention button), and the guest kernel
// first calls the bound driver's remove: vfio-pci's waits until its user closes the device,
// so an orderly device_del never reaches a device phyr holds (the case notes whether the
// device was still there after waiting). What a yanked drive does to the host is the slot
// losing power: the case writes the root port's Slot Control (Power Controller Control =
// off, Power Indicator = off; PCIe Base 4.0 §7.5.3.10), on which QEMU detaches the device
// at once (its pcie_cap_slot_write_config path) — from then on config space reads all
// ones, the BAR is unbacked and DMA stops, without any driver having been told.
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as phyr from '../../../index';
import { read32 } from '../../../lib/mmio';
import { releaseShared } from '../fixture';
import { note, sleep, test } from '../harness';
import { HOTPLUG, HOTPLUG_ID, HOTPLUG_PORT, TARGET } from '../topology';

const TIMEOUT_MS = 3000; // per command; TCG is slow
const PCI_CAP_EXP = 0x10;
const SLTCTL = 0x18;
const SLTCTL_PIC_OFF = 0x300; // Power Indicator Control = 11b (off)
const SLTCTL_PCC = 0x400; // Power Controller Control: 1 = power off

interface Op {
  t0: number;
  t1?: number;
  error?: unknown;
}

/** Keeps `depth` writes-then-reads going on `ns` until stop() (each op recorded). */
function ioLoop(ns: phyr.Namespace, depth: number) {
  const ops: Op[] = [];
  let stopping = false;
  const worker = async (w: number): Promise<void> => {
    const buf = Buffer.alloc(4096, w + 1);
    for (let i = 0; !stopping; i++) {
      const op: Op = { t0: Date.now() };
      ops.push(op);
      const lba = ((w * 97 + i * 8) % 1024) * 8;
      try {
        await (i % 2 ? ns.read(lba, buf) : ns.write(lba, buf));
      } catch (e) {
        op.error = e;
        await sleep(20); // refused at once: do not spin
      }
      op.t1 = Date.now();
    }
  };
  const workers = Array.from({ length: depth }, (_, w) => worker(w));
  return {
    ops,
    stop: async (boundMs: number): Promise<boolean> => {
      stopping = true;
      const done = Promise.all(workers).then(() => true);
      return Promise.race([done, sleep(boundMs).then(() => false)]);
    },
  };
}

function findPcieCap(config: Buffer): number {
  for (let p = config[0x34] & 0xfc, n = 0; p && n < 48; p = config[p + 1] & 0xfc, n++) if (config[p] === PCI_CAP_EXP) return p;
  throw new Error(`${HOTPLUG_PORT} has no PCI Express capability`);
}

function devicePresent(): boolean {
  try {
    const c = fs.readFileSync(`/sys/bus/pci/devices/${HOTPLUG}/config`);
    return c.readUInt16LE(0) !== 0xffff;
  } catch {
    return false; // the kernel removed it
  }
}

/** Powers the root port's slot off (as the loss of the drive does to the link). */
function powerOffSlot(): void {
  const path = `/sys/bus/pci/devices/${HOTPLUG_PORT}/config`;
  const cap = findPcieCap(fs.readFileSync(path));
  const fd = fs.openSync(path, 'r+');
  try {
    const b = Buffer.alloc(2);
    fs.readSync(fd, b, 0, 2, cap + SLTCTL);
    const v = b.readUInt16LE(0);
    b.writeUInt16LE(v | SLTCTL_PCC | SLTCTL_PIC_OFF, 0);
    fs.writeSync(fd, b, 0, 2, cap + SLTCTL);
    note(`slot control of ${HOTPLUG_PORT} (PCIe cap at 0x${cap.toString(16)}): 0x${v.toString(16)} -> 0x${b.readUInt16LE(0).toString(16)}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Slot Control / Slot Status of the root port, as the guest reads them. */
function slotRegs(): { ctl: number; sta: number } {
  const c = fs.readFileSync(`/sys/bus/pci/devices/${HOTPLUG_PORT}/config`);
  const cap = findPcieCap(c);
  return { ctl: c.readUInt16LE(cap + SLTCTL), sta: c.readUInt16LE(cap + SLTCTL + 2) };
}

test('hotplug: surprise removal under IO: device-gone errors within the timeout, no hang; the other controller keeps working; close() completes', async () => {
  releaseShared(); // the controllers go to the driver, each in its own container
  const victim = await phyr.open(HOTPLUG, { timeoutMs: TIMEOUT_MS });
  const other = await phyr.open(TARGET, { timeoutMs: TIMEOUT_MS });
  const bound = 2 * TIMEOUT_MS + 10_000; // the timeout, then the health check, on a slow TCG guest
  let victimClosed = false;
  const vns = victim.namespace(1);
  const vLoad = ioLoop(vns, 4);
  const oLoad = ioLoop(other.namespace(1), 2);
  try {
    await sleep(1500);
    assert.ok(vLoad.ops.filter((o) => o.t1 && !o.error).length > 0, 'IO runs on the controller to be removed');
    assert.deepEqual(vLoad.ops.filter((o) => o.error).map((o) => String(o.error)), [], 'no error before the removal');

    // 1. The monitor's device_del (an orderly removal request to the guest).
    console.log(`@@PHYR-VM-QMP ${JSON.stringify({ execute: 'device_del', arguments: { id: HOTPLUG_ID } })}@@`);
    await sleep(3000);
    const stillThere = devicePresent();
    note(`device_del alone: after 3 s the controller is ${stillThere ? 'still present (the guest waits for vfio-pci to be released)' : 'gone'}; slot ${JSON.stringify(slotRegs())}`);

    // 2. The surprise: the slot loses power under the driver.
    if (stillThere) powerOffSlot();
    const removedAt = Date.now();
    await sleep(200);
    let vendor = 'unreadable';
    try {
      vendor = `0x${victim.fn.configRead(0, 2).toString(16)}`;
    } catch (e) {
      vendor = `unreadable (${(e as Error).message})`;
    }
    let regs = 'unreadable';
    try {
      const bar = victim.fn.bar(0);
      regs = `VS 0x${read32(bar, 0x08).toString(16)}, CSTS 0x${read32(bar, 0x1c).toString(16)}`;
    } catch (e) {
      regs = `unreadable (${(e as Error).message})`;
    }
    note(`after the power-off: slot ${JSON.stringify(slotRegs())}, sysfs config ${devicePresent() ? 'still reads the device' : 'reads no device'}, vendor id through VFIO ${vendor}, BAR0 ${regs}`);
    const end = removedAt + bound;
    while (Date.now() < end && !vLoad.ops.some((o) => o.t0 >= removedAt && o.error)) await sleep(50);
    const pendingAtRemoval = vLoad.ops.filter((o) => o.t0 < removedAt && (o.t1 === undefined || o.t1 >= removedAt));
    const okAfter = vLoad.ops.filter((o) => o.t0 >= removedAt && o.t1 !== undefined && !o.error).length;
    note(`after the power-off: ${okAfter} IO started later completed with success; ${pendingAtRemoval.length} were in flight at the removal`);
    const problems: string[] = [];
    const expect = (ok: boolean, what: string): void => {
      if (!ok) problems.push(what);
    };
    expect(okAfter === 0, `no IO succeeds on a removed device (${okAfter} did)`);
    while (Date.now() < end && pendingAtRemoval.some((o) => o.t1 === undefined)) await sleep(50);
    expect(pendingAtRemoval.filter((o) => o.t1 === undefined).length === 0, `every IO pending at the removal settles within ${bound} ms`);
    const settledMs = Math.max(0, ...pendingAtRemoval.map((o) => (o.t1 as number) - removedAt));
    note(`the IO pending at the removal settled within ${settledMs} ms`);
    const kinds = new Set(vLoad.ops.filter((o) => o.t0 >= removedAt || pendingAtRemoval.includes(o)).filter((o) => o.error).map((o) => (o.error as { code?: string }).code ?? String(o.error)));
    note(`errors of the IO after the removal: ${[...kinds].join(', ') || 'none'}`);
    expect(kinds.size === 1 && kinds.has('PHYR_DEVICE_GONE'), `IO after the removal fails with DeviceGoneError (saw ${[...kinds].join(', ') || 'none'})`);
    const later = await Promise.race([vns.read(0, Buffer.alloc(4096)).then(() => 'resolved', (e: { code?: string }) => e.code ?? String(e)), sleep(bound).then(() => 'hung')]);
    expect(later === 'PHYR_DEVICE_GONE', `a later IO rejects with DeviceGoneError (got ${later})`);

    // 3. The other controller never noticed.
    const before = oLoad.ops.length;
    await sleep(1000);
    expect(oLoad.ops.length > before, 'the other controller keeps doing IO');
    expect(await vLoad.stop(bound), "the removed controller's IO loop ends");
    expect(await oLoad.stop(bound), 'the other IO loop ends');
    const otherErrors = oLoad.ops.filter((o) => o.error).map((o) => String(o.error));
    expect(otherErrors.length === 0, `no error on the other controller (${otherErrors.slice(0, 3).join('; ')})`);

    // 4. close() completes.
    const c0 = Date.now();
    const closed = await Promise.race([victim.close().then(() => true), sleep(120_000).then(() => false)]);
    victimClosed = closed;
    expect(closed, 'close() of the removed controller completes');
    note(`close() of the removed controller took ${Date.now() - c0} ms`);
    await sleep(2000);
    note(`after close(): the guest ${fs.existsSync(`/sys/bus/pci/devices/${HOTPLUG}`) ? 'still lists' : 'no longer lists'} ${HOTPLUG}`);
    await other.namespace(1).write(0, Buffer.alloc(4096, 9));
    assert.deepEqual(problems, [], 'surprise removal handled as documented');
  } finally {
    // Whatever failed, leave nothing running (the suite process must be able to exit).
    await vLoad.stop(bound);
    await oLoad.stop(bound);
    if (!victimClosed) await Promise.race([victim.close().catch(() => undefined), sleep(10_000)]);
    await Promise.race([other.close(), sleep(10_000)]);
  }
});
