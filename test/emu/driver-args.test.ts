// Every public entry point of open() and Controller validates its arguments: a bad one
// is a PhyrError with a stable code and a message naming the argument, never a raw
// TypeError, never silently accepted, and nothing is left open.
import tap from 'tap';
const t = tap;
import * as phyr from '../../index';
import { Controller } from '../../drivers/nvme/controller';

type Case = [string, () => unknown, string, RegExp?];
let tried = 0;

async function expectPhyrError(t: Pick<typeof tap, 'ok' | 'equal' | 'match'>, name: string, f: () => unknown, code: string, msg?: RegExp): Promise<void> {
  tried++;
  let err: unknown;
  try {
    await f();
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof phyr.PhyrError, `${name}: a PhyrError (${String(err)})`);
  t.equal((err as phyr.PhyrError | undefined)?.code, code, `${name}: code`);
  if (msg) t.match(String((err as Error | undefined)?.message), msg, `${name}: message`);
}

const openCases: Case[] = [
  ['open(123)', () => phyr.open(123 as never), 'PHYR_BAD_TARGET', /must be a string.*got number/],
  ['open(null)', () => phyr.open(null as never), 'PHYR_BAD_TARGET', /got null/],
  ['open({})', () => phyr.open({} as never), 'PHYR_BAD_TARGET', /got object/],
  ['open([])', () => phyr.open([] as never), 'PHYR_BAD_TARGET', /got an array/],
  ["open('nvme0')", () => phyr.open('nvme0'), 'PHYR_BAD_TARGET', /'nvme0' is not a target/],
  ["open('emu', 'fast')", () => phyr.open('emu', 'fast' as never), 'PHYR_INVALID_ARGUMENT', /options must be an object/],
  ["open('emu', null)", () => phyr.open('emu', null as never), 'PHYR_INVALID_ARGUMENT', /got null/],
  ["open('emu', [])", () => phyr.open('emu', [] as never), 'PHYR_INVALID_ARGUMENT', /got an array/],
  ['timeoutMs: Infinity', () => phyr.open('emu', { timeoutMs: Infinity }), 'PHYR_INVALID_ARGUMENT', /timeoutMs .* must be an integer 1\.\.2147483647, got Infinity/],
  ["timeoutMs: '1000'", () => phyr.open('emu', { timeoutMs: '1000' as never }), 'PHYR_INVALID_ARGUMENT', /got the string "1000"/],
  ['timeoutMs: 0', () => phyr.open('emu', { timeoutMs: 0 }), 'PHYR_INVALID_ARGUMENT', /timeoutMs/],
  ['timeoutMs: -1', () => phyr.open('emu', { timeoutMs: -1 }), 'PHYR_INVALID_ARGUMENT', /timeoutMs/],
  ['timeoutMs: NaN', () => phyr.open('emu', { timeoutMs: NaN }), 'PHYR_INVALID_ARGUMENT', /got NaN/],
  ['timeoutMs: 1.5', () => phyr.open('emu', { timeoutMs: 1.5 }), 'PHYR_INVALID_ARGUMENT', /timeoutMs/],
  ['timeoutMs: 2**31', () => phyr.open('emu', { timeoutMs: 2 ** 31 }), 'PHYR_INVALID_ARGUMENT', /timeoutMs/],
  ['ioQueueSize: 1', () => phyr.open('emu', { ioQueueSize: 1 }), 'PHYR_INVALID_ARGUMENT', /ioQueueSize must be an integer 2\.\.65536, got 1/],
  ['ioQueueSize: 0', () => phyr.open('emu', { ioQueueSize: 0 }), 'PHYR_INVALID_ARGUMENT', /ioQueueSize/],
  ["ioQueueSize: '64'", () => phyr.open('emu', { ioQueueSize: '64' as never }), 'PHYR_INVALID_ARGUMENT', /ioQueueSize/],
  ['ioQueueSize: 4096 (> CAP.MQES + 1)', () => phyr.open('emu', { ioQueueSize: 4096 }), 'PHYR_INVALID_ARGUMENT', /CAP\.MQES \+ 1 = 1024/],
  ['ioQueueSize: 70000', () => phyr.open('emu', { ioQueueSize: 70000 }), 'PHYR_INVALID_ARGUMENT', /ioQueueSize/],
  ['adminQueueSize: 1', () => phyr.open('emu', { adminQueueSize: 1 }), 'PHYR_INVALID_ARGUMENT', /adminQueueSize/],
  ['adminQueueSize: 8192', () => phyr.open('emu', { adminQueueSize: 8192 }), 'PHYR_INVALID_ARGUMENT', /adminQueueSize/],
  ["completion: 'irq'", () => phyr.open('emu', { completion: 'irq' as never }), 'PHYR_INVALID_ARGUMENT', /completion must be 'poll' or 'interrupt'/],
  ["poller: 'sometimes'", () => phyr.open('emu', { poller: 'sometimes' as never }), 'PHYR_INVALID_ARGUMENT', /poller/],
  ["poller manual + interrupt", () => phyr.open('emu', { poller: 'manual', completion: 'interrupt' }), 'PHYR_INVALID_ARGUMENT', /poller: 'manual'/],
  ['dptr: 5', () => phyr.open('emu', { dptr: 5 as never }), 'PHYR_INVALID_ARGUMENT', /dptr must be/],
  ["sgl: 'no'", () => phyr.open('emu', { sgl: 'no' as never }), 'PHYR_INVALID_ARGUMENT', /sgl must be true or false/],
  ["shadowDoorbells: 'on'", () => phyr.open('emu', { shadowDoorbells: 'on' as never }), 'PHYR_INVALID_ARGUMENT', /shadowDoorbells must be true or false, got the string "on"/],
  ['pool: 5', () => phyr.open('emu', { pool: 5 as never }), 'PHYR_INVALID_ARGUMENT', /pool must be an object/],
  ['pool: { size: 1 }', () => phyr.open('emu', { pool: { size: 1 } as never }), 'PHYR_INVALID_ARGUMENT', /pool: unknown option 'size' \(known: hugepages, shared\)/],
  ["pool: { hugepages: 'maybe' }", () => phyr.open('emu', { pool: { hugepages: 'maybe' as never } }), 'PHYR_DMA_BAD_ARGUMENT', /hugepages/],
  ['unknown option timeout', () => phyr.open('emu', { timeout: 5 } as never), 'PHYR_INVALID_ARGUMENT', /unknown option 'timeout' \(known: pool, timeoutMs/],
  ['recovery: 3', () => phyr.open('emu', { recovery: 3 as never }), 'PHYR_INVALID_ARGUMENT', /recovery must be an object/],
  ['recovery.attempts: 0', () => phyr.open('emu', { recovery: { attempts: 0 } }), 'PHYR_INVALID_ARGUMENT', /recovery\.attempts/],
  ['recovery.tries', () => phyr.open('emu', { recovery: { tries: 2 } as never }), 'PHYR_INVALID_ARGUMENT', /unknown option 'tries'/],
  ['recovery.backoffMs: -1', () => phyr.open('emu', { recovery: { backoffMs: -1 } }), 'PHYR_INVALID_ARGUMENT', /backoffMs/],
  ['Controller.open(null)', () => Controller.open(null as never), 'PHYR_INVALID_ARGUMENT', /needs a PCI function/],
  ['Controller.open({})', () => Controller.open({} as never), 'PHYR_INVALID_ARGUMENT', /needs a PCI function/],
];

t.test('open() and its options', async (t) => {
  for (const [name, f, code, msg] of openCases) await expectPhyrError(t, name, f, code, msg);
});

t.test('the controller API', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs: 1000 });
  t.teardown(() => ctrl.close());
  const cases: Case[] = [
    ["namespace('1')", () => ctrl.namespace('1' as never), 'PHYR_INVALID_ARGUMENT', /namespace id must be an integer 1\.\.4294967294 \(NSID\), got the string "1"/],
    ['namespace(0)', () => ctrl.namespace(0), 'PHYR_INVALID_ARGUMENT', /namespace id/],
    ['namespace(1.5)', () => ctrl.namespace(1.5), 'PHYR_INVALID_ARGUMENT', /got 1\.5/],
    ['namespace(NaN)', () => ctrl.namespace(NaN), 'PHYR_INVALID_ARGUMENT', /got NaN/],
    ['namespace(-1)', () => ctrl.namespace(-1), 'PHYR_INVALID_ARGUMENT', /namespace id/],
    ['namespace(0xffffffff)', () => ctrl.namespace(0xffffffff), 'PHYR_INVALID_ARGUMENT', /namespace id/],
    ['namespace()', () => (ctrl.namespace as (n?: number) => unknown)(), 'PHYR_INVALID_ARGUMENT', /got undefined/],
    ['namespace(2)', () => ctrl.namespace(2), 'PHYR_UNKNOWN_NAMESPACE', /namespace 2 is not an active namespace .*active: 1/],
    ["createQueuePair('big')", () => ctrl.createQueuePair('big' as never), 'PHYR_INVALID_ARGUMENT', /createQueuePair\(\) options must be an object/],
    ['createQueuePair(null)', () => ctrl.createQueuePair(null as never), 'PHYR_INVALID_ARGUMENT', /got null/],
    ["createQueuePair({ size: '8' })", () => ctrl.createQueuePair({ size: '8' as never }), 'PHYR_INVALID_ARGUMENT', /size .* must be an integer/],
    ['createQueuePair({ size: 1 })', () => ctrl.createQueuePair({ size: 1 }), 'PHYR_INVALID_ARGUMENT', /outside 2\.\.1024/],
    ['createQueuePair({ size: 5000 })', () => ctrl.createQueuePair({ size: 5000 }), 'PHYR_INVALID_ARGUMENT', /outside 2\.\.1024/],
    ['createQueuePair({ size: NaN })', () => ctrl.createQueuePair({ size: NaN }), 'PHYR_INVALID_ARGUMENT', /size/],
    ['createQueuePair({ interrupts: 1 })', () => ctrl.createQueuePair({ interrupts: 1 as never }), 'PHYR_INVALID_ARGUMENT', /interrupts must be true or false/],
    ['createQueuePair({ interrupts: true }) when polled', () => ctrl.createQueuePair({ interrupts: true }), 'PHYR_INVALID_ARGUMENT', /completion: 'interrupt'/],
    ["createQueuePair({ dptr: 'x' })", () => ctrl.createQueuePair({ dptr: 'x' as never }), 'PHYR_INVALID_ARGUMENT', /dptr/],
    ["createQueuePair({ dptr: 'sgl' }) without SGL", () => ctrl.createQueuePair({ dptr: 'sgl' }), 'PHYR_SGL_UNSUPPORTED'],
    ['createQueuePair({ qsize: 8 })', () => ctrl.createQueuePair({ qsize: 8 } as never), 'PHYR_INVALID_ARGUMENT', /unknown option 'qsize'/],
    ['reset(5)', () => ctrl.reset(5 as never), 'PHYR_INVALID_ARGUMENT', /reason must be a string/],
    ['adminCommand(new Uint8Array(10))', () => ctrl.adminCommand(new Uint8Array(10)), 'PHYR_INVALID_ARGUMENT', /64 bytes/],
    ["adminCommand('x')", () => ctrl.adminCommand('x' as never), 'PHYR_INVALID_ARGUMENT', /sqe/],
    ['adminCommand(sqe, {})', () => ctrl.adminCommand(new Uint8Array(64), {} as never), 'PHYR_INVALID_ARGUMENT', /pool buffer/],
    ['adminCommand(sqe, buf, 0)', () => ctrl.adminCommand(new Uint8Array(64), { iova: 4096, size: 4096 }, 0), 'PHYR_INVALID_ARGUMENT', /bytes/],
  ];
  for (const [name, f, code, msg] of cases) await expectPhyrError(t, name, f, code, msg);
  // The controller still works after all of that.
  await ctrl.namespace(1).write(0, Buffer.alloc(512, 1));
});

t.test('close() with IO in flight rejects it with ControllerClosedError', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M,latency=50ms', { timeoutMs: 2000 });
  const ns = ctrl.namespace(1);
  const io = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ns.read(i, Buffer.alloc(512)).then(() => 'ok', (e: unknown) => e));
  await new Promise((r) => setImmediate(r));
  await ctrl.close();
  const res = await Promise.all(io);
  for (const r of res) {
    tried++;
    t.type(r, phyr.ControllerClosedError, String(r));
    t.notMatch(String(r), /SQ Deletion/);
  }
  await expectPhyrError(t, 'IO after close()', () => ns.read(0, Buffer.alloc(512)), 'PHYR_CONTROLLER_CLOSED');
  await expectPhyrError(t, 'namespace() after close()', () => ctrl.namespace(1), 'PHYR_CONTROLLER_CLOSED');
  await expectPhyrError(t, 'createQueuePair() after close()', () => ctrl.createQueuePair(), 'PHYR_CONTROLLER_CLOSED');
  await expectPhyrError(t, 'reset() after close()', () => ctrl.reset(), 'PHYR_CONTROLLER_CLOSED');
  await expectPhyrError(t, 'adminCommand() after close()', () => ctrl.adminCommand(new Uint8Array(64)), 'PHYR_CONTROLLER_CLOSED');
  await expectPhyrError(t, 'enableCmb() after close()', () => ctrl.enableCmb(), 'PHYR_CONTROLLER_CLOSED');
  await ctrl.close();
});

t.test('IO issued while close() runs is refused as closed', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M');
  const ns = ctrl.namespace(1);
  const closing = ctrl.close();
  await expectPhyrError(t, 'IO during close()', () => ns.write(0, Buffer.alloc(512)), 'PHYR_CONTROLLER_CLOSED');
  await closing;
});

t.test('count', async (t) => {
  t.comment(`${tried} bad inputs tried`);
  t.ok(tried >= 60);
});
