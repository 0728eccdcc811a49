// Every room of the addon checks its arguments with addon/napi_args.h: the same bad value
// gets the same kind of error and the same wording, whichever room refuses it.
import t from 'tap';
import { loadAddon } from '../../lib/native';

type Loose = (...args: unknown[]) => unknown;
const A = loadAddon() as Record<string, Record<string, unknown>>;
const fn = (room: string, name: string): Loose => A[room][name] as Loose;
const emuDevice = (): { bar: Loose; configRead: Loose; close: Loose } => {
  const EmuDevice = A.emu.EmuDevice as new (cfg: object) => { bar: Loose; configRead: Loose; close: Loose };
  return new EmuDevice({});
};

t.test('an integer out of range: RangeError "NAME must be an integer from MIN to MAX, got V"', async (t) => {
  const d = emuDevice();
  t.teardown(() => d.close());
  const rows: Array<[string, () => unknown, RegExp]> = [
    ['vfio', () => fn('vfio', 'regionInfo')(3, 256), /^region index must be an integer from 0 to 255, got 256$/],
    ['vfio', () => fn('vfio', 'closeFd')(1.5), /^fd must be an integer from 0 to 2147483647, got 1\.5$/],
    ['memory', () => fn('memory', 'allocate')(-1, false), /^region size must be an integer from 1 to 1099511627776, got -1$/],
    ['eventfd', () => fn('eventfd', 'closeFd')(NaN), /^fd must be an integer from 0 to 2147483647, got NaN$/],
    ['emu', () => d.bar(6), /^BAR index must be an integer from 0 to 5, got 6$/],
    ['emu', () => d.configRead(4096, 4), /^config offset must be an integer from 0 to 4095, got 4096$/],
    ['emu', () => fn('emu', 'alignedBuffer')(Infinity), /^size must be an integer from 0 to 1073741824, got Infinity$/],
    ['nvme', () => new (A.nvme.QueuePair as new (o: object) => unknown)({ qid: 70000 }), /^option 'qid' must be an integer from 0 to 65535, got 70000$/],
  ];
  for (const [room, call, message] of rows) t.throws(call, { name: 'RangeError', message }, room);
});

t.test('a missing or mistyped argument: TypeError naming it', async (t) => {
  const d = emuDevice();
  t.teardown(() => d.close());
  const rows: Array<[string, () => unknown, RegExp]> = [
    ['vfio', () => fn('vfio', 'setIommu')(3), /^type must be a number$/],
    ['vfio', () => fn('vfio', 'openPath')(7), /^path must be a string$/],
    ['vfio', () => fn('vfio', 'mapDma')(3, 'x'), /^memory must be an ArrayBuffer$/],
    ['memory', () => fn('memory', 'allocate')('4096', false), /^region size must be a number$/],
    ['eventfd', () => fn('eventfd', 'signal')('3'), /^fd must be a number$/],
    ['emu', () => d.bar(), /^BAR index must be a number$/],
    ['nvme', () => new (A.nvme.QueuePair as new (o: object) => unknown)({}), /^option 'qid' must be a number$/],
    ['bench', () => new (A.bench.BenchJob as new (...a: unknown[]) => unknown)({}, {}, null, 0), /^usage: startJob\(/],
  ];
  for (const [room, call, message] of rows) t.throws(call, { name: 'TypeError', message }, room);
});

t.test('64-bit values: a number or a BigInt, refused past the width', async (t) => {
  const bar = new ArrayBuffer(16);
  t.throws(() => fn('mmio', 'write32')(bar, 0, 2 ** 32), { name: 'RangeError', message: /^register value must be an unsigned integer up to 4294967295, got 4294967296$/ });
  t.throws(() => fn('mmio', 'write64')(bar, 0, 2n ** 64n), { name: 'RangeError', message: /^register value must be an unsigned integer up to 18446744073709551615, got 18446744073709551616n$/ });
  fn('mmio', 'write64')(bar, 8, 2n ** 64n - 1n);
  t.equal(fn('mmio', 'read64')(bar, 8), 2n ** 64n - 1n);
});
