// Every function the native addon exports, fed wrong types, NaN, Infinity, -1, 2**53,
// fractions, huge values, detached and shared buffers, foreign file descriptors (stdio,
// libuv's epoll and eventfd, an application's file, /proc/self/mem) and foreign `this`
// objects: each must throw a JS exception, never crash, hang or act on what it was given.
// The cases run in child processes (fixtures/native-surface-child.js); a case that kills
// its child is named (the child writes each case's start synchronously) and the rest run
// in a new child. The table must cover every export (checked against the addon itself).
import t from 'tap';
import * as path from 'path';
import { spawnSync } from 'child_process';

// PHYR_SURFACE_ADDON: run the table against another build (e.g. an older one, to compare).
const addon = process.env.PHYR_SURFACE_ADDON ?? path.resolve(__dirname, '../../build/Release/phyr.node');
const child = path.join(__dirname, 'fixtures', 'native-surface-child.js');

interface Case {
  id: string;
  code: string;
  /** 'throws' for bad input; 'returns' for the valid baselines. */
  expect: 'throws' | 'returns';
}

// ---- bad values per kind of argument (JS source evaluated in the child) ----
const TYPES = ['undefined', 'null', 'true', "'1'", '{}', '[]', "Symbol('s')", '10n', '() => 0'];
const NUMBERS = ['NaN', 'Infinity', '-Infinity', '-1', '1.5', '2 ** 53', '2 ** 64', '1e300', '-(2 ** 31)'];
const FOREIGN_FDS = ['0', '1', '2', 'V.epollFd', 'V.uvEventfd', 'V.fileFd', 'V.memFd', 'V.closedFd'];
const BAD: Record<string, string[]> = {
  int: [...TYPES, ...NUMBERS],
  fd: [...TYPES, ...NUMBERS, ...FOREIGN_FDS],
  ab: ['undefined', 'null', '1', "'x'", '{}', '[]', 'V.detached', 'V.sab', 'V.u8', 'V.dv'],
  str: ['undefined', 'null', '1', '{}', '[]', "Symbol('s')", '10n'],
  bool: ['undefined', 'null', '1', "'true'", '{}', '0n'],
  fn: ['undefined', 'null', '1', "'f'", '{}'],
  obj: ['undefined', 'null', '1', "'x'", 'true', "Symbol('s')", '10n'],
  arr: ['undefined', 'null', '1', "'x'", '{}', '[NaN]', '[1.5]', '[-2]', '[2 ** 40]', "['1']", 'new Array(3000).fill(-1)'],
  // A config or option field: undefined means "the default", so it is not bad here.
  field: ['null', 'true', "'1'", '{}', '[]', '10n', ...NUMBERS],
};
const without = (kind: string, ...drop: string[]): string[] => BAD[kind].filter((v) => !drop.includes(v));
const plus = (kind: string, ...more: string[]): string[] => [...BAD[kind], ...more];

interface Fn {
  name: string;
  call: (args: string[]) => string;
  /** Valid arguments, and the bad values tried at each position. */
  args: Array<{ valid: string; bad: string[] }>;
  /** A valid call (all `valid` args) returns; otherwise it may throw (e.g. ENOTTY). */
  validReturns?: boolean;
}

const int = (valid: string, bad = BAD.int) => ({ valid, bad });
const fd = (valid: string, bad = BAD.fd) => ({ valid, bad });
const ab = (valid: string, bad = BAD.ab) => ({ valid, bad });

const fns: Fn[] = [
  // ---- vfio ----
  { name: 'vfio.openPath', call: (a) => `A.vfio.closeFd(A.vfio.openPath(${a[0]}))`, args: [{ valid: "'/dev/null'", bad: [...BAD.str, "'/proc/self/mem'", 'V.dir', 'V.fifo', "'/dev/null\\0x'", "''", "'/nonexistent'"] }], validReturns: true },
  { name: 'vfio.closeFd', call: (a) => `A.vfio.closeFd(${a[0]})`, args: [fd("A.vfio.openPath('/dev/null')", plus('fd', 'V.evfd', 'V.msix[0]'))], validReturns: true },
  ...['containerCaps', 'iommuInfo', 'groupStatus', 'groupUnsetContainer', 'deviceInfo', 'reset'].map((n) => ({ name: `vfio.${n}`, call: (a: string[]) => `A.vfio.${n}(${a[0]})`, args: [fd('V.nodeFd', plus('fd', 'V.evfd', 'V.vfioEventfd'))] })),
  // A received device fd: anything that is not a VFIO PCI device fd is refused (no device here).
  { name: 'vfio.adoptDeviceFd', call: (a) => `A.vfio.adoptDeviceFd(${a[0]})`, args: [fd('V.nodeFd', plus('fd', 'V.evfd', 'V.vfioEventfd'))] },
  { name: 'vfio.setIommu', call: (a) => `A.vfio.setIommu(${a[0]}, ${a[1]})`, args: [fd('V.nodeFd'), int('3', plus('int', '0', '1001'))] },
  { name: 'vfio.groupSetContainer', call: (a) => `A.vfio.groupSetContainer(${a[0]}, ${a[1]})`, args: [fd('V.nodeFd'), fd('V.nodeFd')] },
  { name: 'vfio.groupDeviceFd', call: (a) => `A.vfio.groupDeviceFd(${a[0]}, ${a[1]})`, args: [fd('V.nodeFd'), { valid: "'0000:00:10.0'", bad: [...BAD.str, "''", "'x'.repeat(65)", "'a\\0b'"] }] },
  { name: 'vfio.regionInfo', call: (a) => `A.vfio.regionInfo(${a[0]}, ${a[1]})`, args: [fd('V.nodeFd'), int('0', plus('int', '256'))] },
  { name: 'vfio.irqInfo', call: (a) => `A.vfio.irqInfo(${a[0]}, ${a[1]})`, args: [fd('V.nodeFd'), int('2', plus('int', '256'))] },
  { name: 'vfio.setIrqEventfds', call: (a) => `A.vfio.setIrqEventfds(${a[0]}, ${a[1]}, ${a[2]}, ${a[3]})`, args: [fd('V.nodeFd'), int('2', plus('int', '256')), int('0', plus('int', '2048')), { valid: '[]', bad: BAD.arr }] },
  { name: 'vfio.mapDma', call: (a) => `A.vfio.mapDma(${a[0]}, ${a[1]}, ${a[2]}, ${a[3]}, ${a[4]}, ${a[5]}, ${a[6]})`, args: [fd('V.nodeFd'), ab('V.region', plus('ab', 'V.emptyAb')), int('0', plus('int', '4096')), int('4096', plus('int', '0', '4097')), int('0'), { valid: 'true', bad: BAD.bool }, { valid: 'true', bad: BAD.bool }] },
  { name: 'vfio.unmapDma', call: (a) => `A.vfio.unmapDma(${a[0]}, ${a[1]}, ${a[2]})`, args: [fd('V.nodeFd'), int('0'), int('4096', plus('int', '0'))] },
  { name: 'vfio.mmapRegion', call: (a) => `new Uint8Array(A.vfio.mmapRegion(${a[0]}, ${a[1]}, ${a[2]}))[0]`, args: [fd('V.nodeFd', plus('fd', 'V.nodeFd', 'V.evfd')), int('0'), int('4096', plus('int', '0', '2 ** 41'))] },
  // Only BARs (mmapRegion) are VFIO-layer mappings, and there is no device here: the valid
  // baseline is a detached buffer (already unmapped, so a no-op).
  { name: 'vfio.unmapBuffer', call: (a) => `A.vfio.unmapBuffer(${a[0]})`, args: [ab('V.detached', [...without('ab', 'V.detached'), 'V.ab', 'V.region', 'V.bar', 'V.emptyAb'])], validReturns: true },
  { name: 'vfio.configRead', call: (a) => `A.vfio.configRead(${a[0]}, ${a[1]}, ${a[2]}, ${a[3]})`, args: [fd('V.nodeFd', plus('fd', 'V.nodeFd')), int('0'), int('0', plus('int', '4096', '2')), int('4', plus('int', '0', '3', '8'))] },
  { name: 'vfio.configWrite', call: (a) => `A.vfio.configWrite(${a[0]}, ${a[1]}, ${a[2]}, ${a[3]}, ${a[4]})`, args: [fd('V.nodeFd', plus('fd', 'V.nodeFd')), int('0'), int('4'), int('2', plus('int', '0', '3', '8')), int('0', plus('int', '65536'))] },
  { name: 'vfio.eventfd', call: () => 'A.vfio.eventfd()', args: [], validReturns: true },
  { name: 'vfio.readEventfd', call: (a) => `A.vfio.readEventfd(${a[0]})`, args: [fd('V.vfioEventfd', plus('fd', 'V.nodeFd'))], validReturns: true },
  // ---- eventfd ----
  { name: 'eventfd.createEventfd', call: () => 'A.eventfd.closeFd(A.eventfd.createEventfd())', args: [], validReturns: true },
  { name: 'eventfd.closeFd', call: (a) => `A.eventfd.closeFd(${a[0]})`, args: [fd('A.eventfd.createEventfd()', plus('fd', 'V.msix[0]', 'V.vfioEventfd', 'V.nodeFd', 'V.evfd2'))], validReturns: true },
  { name: 'eventfd.signal', call: (a) => `A.eventfd.signal(${a[0]}, ${a[1]})`, args: [fd('V.evfd', plus('fd', 'V.nodeFd')), int('1', [...without('int', 'undefined'), '0'])], validReturns: true },
  { name: 'eventfd.Watcher', call: (a) => `new A.eventfd.Watcher(${a[0]}, ${a[1]}).close()`, args: [fd('V.evfd', plus('fd', 'V.nodeFd', 'V.evfd2')), { valid: '() => {}', bad: BAD.fn }], validReturns: true },
  // ---- mmio ----
  ...['read32', 'read64'].map((n) => ({ name: `mmio.${n}`, call: (a: string[]) => `A.mmio.${n}(${a[0]}, ${a[1]})`, args: [ab('V.ab', plus('ab', 'V.emptyAb')), int('8', plus('int', '4094', '4096', '4097'))], validReturns: true })),
  ...['write32', 'write64'].map((n) => ({
    name: `mmio.${n}`,
    call: (a: string[]) => `A.mmio.${n}(${a[0]}, ${a[1]}, ${a[2]})`,
    args: [ab('V.ab', plus('ab', 'V.emptyAb')), int('8', plus('int', '4094', '4096')), { valid: '1', bad: ['undefined', 'null', "'1'", '{}', 'NaN', '-1', '1.5', '2 ** 64', '1e300', '-1n', '2n ** 64n', ...(n === 'write32' ? ['2 ** 32', '2n ** 32n'] : [])] }],
    validReturns: true,
  })),
  // ---- phyr ----
  ...['readEntries', 'writePattern'].map((n) => ({ name: `phyr.${n}`, call: (a: string[]) => `A.phyr.${n}(${a[0]}, ${a[1]})`, args: [ab('V.ab', plus('ab', 'V.emptyAb')), int('2', plus('int', '257', '2 ** 32'))], validReturns: true })),
  { name: 'phyr.layout', call: () => 'A.phyr.layout()', args: [], validReturns: true },
  // ---- memory ----
  { name: 'memory.allocate', call: (a) => `A.memory.allocate(${a[0]}, ${a[1]})`, args: [int('4096', plus('int', '0', '2 ** 50')), { valid: 'false', bad: BAD.bool }], validReturns: true },
  { name: 'memory.pageOffset', call: (a) => `A.memory.pageOffset(${a[0]}, ${a[1]})`, args: [ab('V.region', plus('ab', 'V.emptyAb')), int('0', plus('int', '4097'))], validReturns: true },
  { name: 'memory.stats', call: () => 'A.memory.stats()', args: [], validReturns: true },
  // ---- emu ----
  { name: 'emu.alignedBuffer', call: (a) => `A.emu.alignedBuffer(${a[0]})`, args: [int('4096', plus('int', '0', '100', '2 ** 31'))], validReturns: true },
  {
    name: 'bench.LoopbackQueue',
    call: (a) => `new A.bench.LoopbackQueue(${a[0]}).close()`,
    args: [
      {
        valid: '{ qsize: 8, sglSupport: 1, preferSgl: true, maxTransfer: 524288 }',
        bad: [
          ...BAD.obj,
          '[]',
          '{}',
          ...BAD.field.map((v) => `{ qsize: ${v} }`),
          ...['sglSupport', 'maxTransfer'].flatMap((k) => BAD.field.map((v) => `{ qsize: 8, ${k}: ${v} }`)),
          ...['null', '1', "'true'", '{}'].map((v) => `{ qsize: 8, sglSupport: 1, preferSgl: ${v} }`),
          '{ qsize: 1 }',
          '{ qsize: 65537 }',
          '{ qsize: 8, sglSupport: 3 }',
          '{ qsize: 8, maxTransfer: 100 }',
          '{ qsize: 8, maxTransfer: 2 ** 40 }',
          '{ qsize: 8, preferSgl: true }',
        ],
      },
    ],
    validReturns: true,
  },
  { name: 'bench.emuDeviceCost', call: (a) => `A.bench.emuDeviceCost(${a[0]})`, args: [{ valid: '{ commands: 1000 }', bad: ['null', '1', "'x'", 'true', '[]', '{ commands: NaN }', '{ commands: 2 ** 53 }', '{ batch: -1 }', '{ batch: 1.5 }', '{ blockBytes: 2 ** 40 }', '{ opcode: 256 }', "{ backend: 'file' }", "{ backend: 'x' }", '{ backend: 5 }', '{ commands: Infinity }'] }], validReturns: true },
  {
    name: 'emu.EmuDevice',
    call: (a) => `new A.emu.EmuDevice(${a[0]}, ${a[1]}).close()`,
    args: [
      {
        valid: 'V.cfg',
        bad: [
          ...BAD.obj,
          ...['namespaces', 'lbads', 'nsBytes', 'queues', 'qsize', 'mdts', 'sgl', 'cmbBytes', 'cmbSupport', 'sharedBar'].flatMap((k) => BAD.field.map((v) => `{ ...V.cfg, ${k}: ${v} }`)),
          ...['backend', 'path', 'serial'].flatMap((k) => ['5', 'null', '{}', 'true'].map((v) => `{ ...V.cfg, ${k}: ${v} }`)),
          "{ ...V.cfg, backend: 'file', path: '/proc/self/mem' }",
          "{ ...V.cfg, backend: 'file', path: V.fifo }",
          "{ ...V.cfg, backend: 'file', path: '/dev/zero' }",
          "{ ...V.cfg, backend: 'disk' }",
          '{ ...V.cfg, lbads: 10 }',
          '{ ...V.cfg, nsBytes: 2 ** 46, namespaces: 2 }',
          '{ ...V.cfg, cmbBytes: 100 }',
          '{ ...V.cfg, cmbSupport: 32 }',
          ...['latencyKind', 'latencyNs', 'latencyMaxNs', 'iops', 'bandwidth', 'inflight'].flatMap((k) => BAD.field.map((v) => `{ ...V.cfg, timing: { ${k}: ${v} } }`)),
          '{ ...V.cfg, timing: 5 }',
          "{ ...V.cfg, timing: 'x' }",
          '{ ...V.cfg, faults: 5 }',
          "{ ...V.cfg, faults: 'cfs' }",
          '{ ...V.cfg, faults: [5] }',
          "{ ...V.cfg, faults: [{ kind: 'nope' }] }",
          ...['nth', 'lba', 'nsid', 'status', 'delayNs', 'after', 'opcode', 'qid', 'byte'].flatMap((k) => BAD.field.map((v) => `{ ...V.cfg, faults: [{ kind: 'fail', ${k}: ${v} }] }`)),
          "{ ...V.cfg, faults: [{ kind: 'fail', nth: 0 }] }",
          "{ ...V.cfg, faults: [{ kind: 'corrupt', byte: 512 }] }",
        ],
      },
      { valid: 'undefined', bad: ['null', '1', "'x'", '{}', 'V.W', 'V.closedD', 'V.region'] },
    ],
    validReturns: true,
  },
];

// EmuDevice methods: on a live device with bad arguments, on a closed one, and with a
// foreign `this`.
const emuMethods: Array<[string, Array<{ valid: string; bad: string[] }>, boolean]> = [
  ['bar', [int('0', plus('int', '1', '5', '6'))], true],
  ['barSize', [int('0', plus('int', '6'))], true],
  ['configRead', [int('0', plus('int', '4096', '1')), int('2', plus('int', '0', '3', '8'))], true],
  ['configWrite', [int('4', plus('int', '4096', '1')), int('2', plus('int', '0', '3')), int('6', plus('int', '65536'))], true],
  ['enableMsix', [int('2', plus('int', '0', '4', '65537'))], true],
  ['inject', [{ valid: "{ kind: 'clear' }", bad: [...BAD.obj, "{ kind: 'nope' }", '{}', "{ kind: 'fail', nth: 0 }", "{ kind: 'fail', nth: NaN }", "{ kind: 'corrupt', byte: 512 }", "{ kind: 'delay', delayNs: -1 }", "{ kind: 'fail', status: 2 ** 15 }", "{ kind: 'fail', opcode: 257 }"] }], true],
  ['faultLog', [], true],
  ['faultCount', [], true],
  ['clearFaults', [], true],
  ['stats', [], true],
  ['mappingCount', [], true],
  ['pendingCompletions', [], true],
];
for (const [m, args, returns] of emuMethods) fns.push({ name: `emu.EmuDevice#${m}`, call: (a) => `V.D.${m}(${a.join(', ')})`, args, validReturns: returns });
const cases: Case[] = [];
// ---- channel ----
const chanFd = (valid: string, ...more: string[]) => fd(valid, plus('fd', 'V.nodeFd', 'V.evfd', ...more));
fns.push(
  { name: 'channel.listen', call: (a) => `A.channel.close(A.channel.listen(${a[0]}, ${a[1]}))`, args: [{ valid: 'V.sockPath()', bad: [...BAD.str, "''", "'/nonexistent/dir/s'", "'x'.repeat(200)", 'V.listenPath'] }, int('0o600', plus('int', '0o1000'))], validReturns: true },
  { name: 'channel.connect', call: (a) => `A.channel.close(A.channel.connect(${a[0]}))`, args: [{ valid: 'V.listenPath', bad: [...BAD.str, "''", "'/nonexistent/s'", 'V.dir'] }], validReturns: true },
  { name: 'channel.accept', call: (a) => `A.channel.accept(${a[0]})`, args: [chanFd('V.chanL')], validReturns: true },
  { name: 'channel.send', call: (a) => `A.channel.send(${a[0]}, ${a[1]}, ${a[2]})`, args: [chanFd('V.chanC'), { valid: 'new Uint8Array([1])', bad: ['undefined', 'null', '1', "'x'", '{}', 'V.ab', 'new Uint8Array(0)', 'new Uint16Array(1)', `new Uint8Array(${64 * 1024 + 1})`] }, { valid: '[]', bad: [...BAD.arr, '[V.closedFd]', 'new Array(17).fill(0)'] }], validReturns: true },
  { name: 'channel.receive', call: (a) => `A.channel.receive(${a[0]})`, args: [chanFd('V.chanS')], validReturns: true },
  { name: 'channel.waitReadable', call: (a) => `A.channel.waitReadable(${a[0]}, ${a[1]})`, args: [chanFd('V.chanS'), int('0', plus('int', '600001'))], validReturns: true },
  { name: 'channel.peer', call: (a) => `A.channel.peer(${a[0]})`, args: [chanFd('V.chanS')], validReturns: true },
  { name: 'channel.close', call: (a) => `A.channel.close(${a[0]})`, args: [chanFd('A.channel.connect(V.listenPath)', 'V.chanC2')], validReturns: true },
  { name: 'channel.createShared', call: (a) => `A.channel.createShared(${a[0]}, ${a[1]})`, args: [int('4096', plus('int', '0', '100', '2 ** 41')), { valid: 'false', bad: [...BAD.bool, 'true'] }], validReturns: true },
  { name: 'channel.mapShared', call: (a) => `A.channel.mapShared(${a[0]}, ${a[1]})`, args: [chanFd('V.recvd', 'V.shared.fd', 'V.chanS'), int('4096', plus('int', '0', '100', '8192', '2 ** 41'))], validReturns: true },
  { name: 'channel.stats', call: () => 'A.channel.stats()', args: [], validReturns: true },
  { name: 'channel.Watcher', call: (a) => `new A.channel.Watcher(${a[0]}, ${a[1]}).close()`, args: [chanFd('V.chanC', 'V.chanC2'), { valid: '() => {}', bad: BAD.fn }], validReturns: true },
);
// barFd needs a device with shared=on (V.SD); V.D has no shared BAR, so its barFd throws too.
fns.push({ name: 'emu.EmuDevice#barFd', call: (a) => `V.SD.barFd(${a[0]})`, args: [int('0', plus('int', '1', '2', '6'))], validReturns: true });
cases.push({ id: 'emu.EmuDevice#barFd (not shared)', code: 'V.D.barFd(0)', expect: 'throws' });
cases.push({ id: 'emu.EmuDevice#barFd (closed)', code: 'V.closedD.barFd(0)', expect: 'throws' });
fns.push({ name: 'emu.EmuDevice#close', call: () => `new A.emu.EmuDevice(V.cfg).close()`, args: [], validReturns: true });

const watcherMethods = ['close', 'ref', 'unref'];
const watcherAccessors = ['fd', 'closed'];
// Methods owned elsewhere (dmaMap/dmaUnmap: the DMA mapping work) are still called with a
// foreign `this`; their argument tables live with their owners.
const SKIPPED_ARGS = new Set(['emu.EmuDevice#dmaMap', 'emu.EmuDevice#dmaUnmap']);

for (const f of fns) {
  const valid = f.args.map((a) => a.valid);
  cases.push({ id: `${f.name} (valid)`, code: f.call(valid), expect: f.validReturns ? 'returns' : 'throws' });
  f.args.forEach((a, i) => {
    for (const bad of a.bad) {
      const args = [...valid];
      args[i] = bad;
      cases.push({ id: `${f.name} arg${i}=${bad}`, code: f.call(args), expect: 'throws' });
    }
  });
}
// Closed device: every method but close throws; close is idempotent.
for (const [m, args] of emuMethods) cases.push({ id: `emu.EmuDevice#${m} (closed)`, code: `V.closedD.${m}(${args.map((a) => a.valid).join(', ')})`, expect: 'throws' });
cases.push({ id: 'emu.EmuDevice#close (closed)', code: 'V.closedD.close()', expect: 'returns' });
// Foreign `this` for every method of every class.
const FOREIGN_THIS = ['{}', '5', 'undefined', 'V.W', 'V.D', 'V.region', 'V.CW'];
const classes: Array<[string, string, string[], string[]]> = [
  ['emu.EmuDevice', 'A.emu.EmuDevice', [...emuMethods.map(([m]) => m), 'barFd', 'dmaMap', 'dmaUnmap', 'close'], []],
  ['eventfd.Watcher', 'A.eventfd.Watcher', watcherMethods, watcherAccessors],
  ['channel.Watcher', 'A.channel.Watcher', watcherMethods, []],
  ['nvme.QueuePair', 'A.nvme.QueuePair', ['submitBatch', 'reap', 'submitRaw', 'cancelAll', 'tick', 'expired', 'cidsOf', 'setArena', 'addListPages', 'stats', 'close', 'busy'], []],
  ['bench.BenchJob', 'A.bench.BenchJob', ['stop', 'join', 'snapshot', 'drainSamples', 'drainIos', 'drainHist', 'done'], []],
  ['bench.LoopbackQueue', 'A.bench.LoopbackQueue', ['close', 'answered'], ['capacity', 'busy']],
];
for (const [name, ctor, methods, accessors] of classes) {
  for (const m of methods) {
    for (const self of FOREIGN_THIS) {
      if ((name === 'emu.EmuDevice' && self === 'V.D') || (name === 'eventfd.Watcher' && self === 'V.W') || (name === 'channel.Watcher' && self === 'V.CW')) continue;
      const d = `Object.getOwnPropertyDescriptor(${ctor}.prototype, '${m}')`;
      cases.push({ id: `${name}#${m} this=${self}`, code: `const d = ${d}; (d.get || d.value).call(${self}, 0, 0, 0)`, expect: 'throws' });
    }
  }
  for (const m of accessors) {
    for (const self of FOREIGN_THIS.filter((s) => !(name === 'eventfd.Watcher' && s === 'V.W'))) {
      cases.push({ id: `${name}#${m} this=${self}`, code: `Object.getOwnPropertyDescriptor(${ctor}.prototype, '${m}').get.call(${self})`, expect: 'throws' });
    }
  }
}
// nvme and bench: constructors and functions with bad shapes (their valid use needs a
// driver; the driver's tests cover it).
for (const bad of BAD.obj) cases.push({ id: `nvme.QueuePair arg0=${bad}`, code: `new A.nvme.QueuePair(${bad})`, expect: 'throws' });
cases.push({ id: 'nvme.QueuePair arg0={}', code: 'new A.nvme.QueuePair({})', expect: 'throws' });
cases.push({ id: 'nvme.QueuePair bar=detached', code: 'new A.nvme.QueuePair({ qid: 1, qsize: 2, sqDoorbell: 0, cqDoorbell: 4, sqOffset: 0, sqIova: 0, cqOffset: 0, cqIova: 0, listsOffset: 0, listsIova: 0, listPages: 0, pageSize: 4096, bar: V.detached })', expect: 'throws' });
for (const bad of ['V.D', 'V.W', '{}', '5', 'V.region']) cases.push({ id: `bench.BenchJob qp=${bad}`, code: `new A.bench.BenchJob(${bad}, {}, V.ab, 1, new Uint32Array(4))`, expect: 'throws' });
// A loopback queue: closed, every method but close throws and a job refuses it; close is idempotent.
for (const m of ['answered()', 'capacity', 'busy']) cases.push({ id: `bench.LoopbackQueue#${m.replace('()', '')} (closed)`, code: `V.closedL.${m}`, expect: 'throws' });
cases.push({ id: 'bench.LoopbackQueue#close (closed)', code: 'V.closedL.close()', expect: 'returns' });
cases.push({ id: 'bench.LoopbackQueue#answered (valid)', code: 'V.L.answered() + V.L.capacity + Number(V.L.busy)', expect: 'returns' });
cases.push({ id: 'bench.BenchJob qp=closed LoopbackQueue', code: 'new A.bench.BenchJob(V.closedL, {}, V.ab, 0, new Float64Array(16))', expect: 'throws' });
cases.push({ id: 'bench.BenchJob qp=LoopbackQueue params={}', code: 'new A.bench.BenchJob(V.L, {}, V.ab, 0, new Float64Array(16))', expect: 'throws' });
cases.push({ id: 'nvme.threadCpuNs (valid)', code: 'A.nvme.threadCpuNs()', expect: 'returns' });
for (const bad of [...TYPES, 'V.detached', '5']) cases.push({ id: `nvme.explain arg0=${bad}`, code: `A.nvme.explain(${bad}, 1, 4096, 0, {})`, expect: 'throws' });
// explain's optional bit-bucket head and tail (arguments 6 and 7): u32 or undefined, never wrapped.
const EXPLAIN_ONE = 'A.nvme.explain(new Uint32Array([0x100000, 0, 8192, 0]).buffer, 1, 8192, 512, { sglSupport: 1, bitBucket: 1 }, false';
for (const bad of ['NaN', '-1', '1.5', '2 ** 32', "'5'", 'null', 'Infinity']) {
  cases.push({ id: `nvme.explain head=${bad}`, code: `${EXPLAIN_ONE}, ${bad})`, expect: 'throws' });
  cases.push({ id: `nvme.explain tail=${bad}`, code: `${EXPLAIN_ONE}, 0, ${bad})`, expect: 'throws' });
}
cases.push({ id: 'nvme.explain head=512 tail=undefined', code: `${EXPLAIN_ONE}, 512, undefined)`, expect: 'returns' });
for (const [n, argsList] of [
  ['memcpyBandwidth', ['NaN, 10', '4096, NaN', '-1, 10', '2 ** 53, 10', '4096, 1e9', "'x', 1"]],
  ['engineFloor', ['NaN, 10', '1, -1', '2 ** 53, 10', '1.5, 10', "'1', 10", '1, Infinity']],
  ['driverFloor', ['NaN, 10', '1, -1', '2 ** 53, 10', '1.5, 10', "'1', 10", '1, Infinity']],
] as Array<[string, string[]]>) {
  for (const args of argsList) cases.push({ id: `bench.${n}(${args})`, code: `A.bench.${n}(${args})`, expect: 'throws' });
}
cases.push({ id: 'bench.nsPerTick (valid)', code: 'A.bench.nsPerTick()', expect: 'returns' });

interface Outcome {
  kind: 'returned' | 'threw' | 'crashed' | 'hung';
  detail: string;
}

// Runs the cases in children; a crash or hang ends a child, the rest go to a new one.
function runAll(list: Case[]): Map<string, Outcome> {
  const results = new Map<string, Outcome>();
  let rest = list;
  while (rest.length > 0) {
    const r = spawnSync(process.execPath, [child, addon], { input: JSON.stringify(rest), encoding: 'utf8', timeout: 60_000, maxBuffer: 64 << 20 });
    let current: string | undefined;
    let ended = false;
    for (const line of (r.stdout ?? '').split('\n')) {
      if (line === 'END') ended = true;
      const m = /^(BEGIN|RETURNED|THREW) (.*)$/.exec(line);
      if (!m) continue;
      if (m[1] === 'BEGIN') {
        current = m[2];
        continue;
      }
      const c = rest.find((x) => m[2].startsWith(x.id) && (m[2].length === x.id.length || m[2][x.id.length] === ' '));
      if (!c) continue;
      results.set(c.id, { kind: m[1] === 'RETURNED' ? 'returned' : 'threw', detail: m[2].slice(c.id.length + 1) });
      current = undefined;
    }
    const died = !ended || r.status !== 0 || r.signal !== null;
    if (died) {
      const hung = r.error !== undefined && /ETIMEDOUT/.test(String(r.error));
      const culprit = current ?? rest.find((c) => !results.has(c.id))?.id;
      const detail = `${hung ? 'no answer within 60 s' : `exit ${r.status}, signal ${r.signal}`}; stderr: ${(r.stderr ?? '').slice(-300)}`;
      if (culprit) results.set(culprit, { kind: hung ? 'hung' : 'crashed', detail });
      if (!culprit && ended) {
        // Every case answered but the process died at exit: charge it to the whole run.
        results.set('(process exit)', { kind: 'crashed', detail });
      }
    }
    rest = rest.filter((c) => !results.has(c.id));
    if (!died) break;
  }
  return results;
}

t.test('the table covers every native export', async (t) => {
  const r = spawnSync(process.execPath, [child, addon, '--list'], { encoding: 'utf8', timeout: 30_000 });
  t.equal(r.status, 0, r.stderr);
  const names = JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as string[];
  t.ok(names.length > 50, `${names.length} exports listed`);
  const covered = new Set(cases.map((c) => c.id.split(/[ (]/)[0].replace(/#.*$/, (m) => m)));
  for (const n of names) {
    const hit = cases.some((c) => c.id === n || c.id.startsWith(`${n} `) || c.id.startsWith(`${n}(`));
    t.ok(hit || SKIPPED_ARGS.has(n), `${n} has cases`);
  }
  t.ok(covered.size > 0);
});

t.test('no value passed to the addon crashes, hangs or is wrongly accepted', async (t) => {
  const results = runAll(cases);
  let crashes = 0;
  let hangs = 0;
  let accepted = 0;
  for (const c of cases) {
    const o = results.get(c.id);
    if (!o) {
      t.fail(`${c.id}: no outcome`);
      continue;
    }
    if (o.kind === 'crashed') crashes++;
    if (o.kind === 'hung') hangs++;
    if (c.expect === 'throws' && o.kind === 'returned') accepted++;
    const want = c.expect === 'throws' ? 'threw' : 'returned';
    if (o.kind !== want) t.fail(`${c.id}: ${o.kind} (${o.detail}), expected it to ${c.expect === 'throws' ? 'throw' : 'return'}`);
  }
  const exit = results.get('(process exit)');
  if (exit) t.fail(`a child died at exit: ${exit.detail}`);
  t.comment(`native surface: ${cases.length} cases (${cases.filter((c) => c.expect === 'throws').length} bad inputs), ${crashes} crashes, ${hangs} hangs, ${accepted} wrongly accepted`);
  t.equal(crashes, 0, 'crashes');
  t.equal(hangs, 0, 'hangs');
  t.equal(accepted, 0, 'wrongly accepted');
});
