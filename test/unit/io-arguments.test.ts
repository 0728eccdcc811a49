// Every public method of Namespace, PhyrArray, DmaPool/DmaBuffer and QueuePair against
// wrong types, huge, fractional and negative numbers, NaN and detached buffers: each is
// refused with a PhyrError that has a stable code (never a raw TypeError/RangeError), the
// promise-returning ones reject instead of throwing, and nothing is submitted.
import t from 'tap';
import * as v8 from 'v8';
import { DmaPool, type DmaBuffer } from '../../lib/dma';
import { memoryNative } from '../../lib/dma/native';
import { PhyrError } from '../../lib/errors';
import { PhyrArray } from '../../lib/phyr';
import type { Controller } from '../../drivers/nvme/controller';
import type { Command } from '../../drivers/nvme/dispatcher';
import type { IdentifyNamespace } from '../../drivers/nvme/identify';
import { Namespace } from '../../drivers/nvme/namespace';
import { QueuePair } from '../../drivers/nvme/queue-pair';
import { RecordingFunction } from './fixtures/recording-function';

v8.setFlagsFromString('--allow-natives-syntax');
const detach = new Function('ab', '%ArrayBufferDetach(ab)') as (ab: ArrayBuffer) => void;
const native = memoryNative();

/** The assertions the helpers use. */
type Checks = Pick<typeof t, 'ok' | 'equal' | 'match' | 'fail'>;

/** Counts every bad input tried, for the record (printed at the end). */
let tried = 0;

/** A namespace over a fake controller: a real pool, a dispatcher that records commands. */
function rig(): { ns: Namespace; pool: DmaPool; submitted: Command[]; usable: { value: boolean } } {
  const pool = new DmaPool(new RecordingFunction(undefined, (m, o) => native.pageOffset(m, o)), { hugepages: 'off' });
  const submitted: Command[] = [];
  const usable = { value: true };
  const ctrl = {
    pool,
    identify: { oncs: 0xff },
    queueCaps: { pageSize: 4096, sglSupport: 1, bitBucket: true, maxTransfer: 0 },
    checkUsable(what: string) {
      if (!usable.value) throw new PhyrError('PHYR_CONTROLLER_CLOSED', `${what}: closed`);
    },
    ioDispatcher: () => ({ enqueue: (c: Command) => submitted.push(c) }),
  } as unknown as Controller;
  const identify = { nsze: 1000, ncap: 1000, flbas: 0, nlbaf: 0, lbafs: [{ ms: 0, ds: 9, rp: 0 }] } as unknown as IdentifyNamespace;
  return { ns: new Namespace(ctrl, 1, identify), pool, submitted, usable };
}

/** Expects a synchronous PhyrError with `code` (and message). */
function throwsTyped(t: Checks, f: () => unknown, code: string, message?: RegExp, name?: string): void {
  tried++;
  try {
    f();
    t.fail(`${name ?? code}: accepted`);
  } catch (e) {
    t.ok(e instanceof PhyrError, `${name ?? code}: a PhyrError (${(e as Error).name}: ${(e as Error).message})`);
    t.equal((e as PhyrError).code, code, `${name ?? code}: code`);
    if (message) t.match((e as Error).message, message, `${name ?? code}: message`);
  }
}

/** Expects a returned promise that rejects with a PhyrError with `code`; a synchronous throw fails. */
async function rejectsTyped(t: Checks, f: () => Promise<unknown>, code: string, message?: RegExp, name?: string): Promise<void> {
  tried++;
  let p: Promise<unknown>;
  try {
    p = f();
  } catch (e) {
    t.fail(`${name ?? code}: threw synchronously instead of rejecting (${(e as Error).message})`);
    return;
  }
  try {
    await p;
    t.fail(`${name ?? code}: accepted`);
  } catch (e) {
    t.ok(e instanceof PhyrError, `${name ?? code}: a PhyrError (${(e as Error).name}: ${(e as Error).message})`);
    t.equal((e as PhyrError).code, code, `${name ?? code}: code`);
    if (message) t.match((e as Error).message, message, `${name ?? code}: message`);
  }
}

const badNumbers: Array<[string, unknown]> = [
  ['string', '0'],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['negative', -1],
  ['fractional', 1.5],
  ['huge', 2 ** 60],
  ['BigInt', 1n],
  ['null', null],
  ['object', {}],
];

t.test('Namespace.read/write/readBytes/writeZeroes/deallocate: LBAs and counts', async (t) => {
  const { ns, pool, submitted } = rig();
  const buf = Buffer.alloc(512);
  await rejectsTyped(t, () => ns.read('0' as unknown as number, buf), 'PHYR_INVALID_IO', /LBA '0' is a string; pass a number/, "read LBA '0'");
  for (const [what, v] of badNumbers) {
    const lba = v as number;
    await rejectsTyped(t, () => ns.read(lba, buf), 'PHYR_INVALID_IO', /LBA/, `read LBA ${what}`);
    await rejectsTyped(t, () => ns.write(lba, buf), 'PHYR_INVALID_IO', /LBA/, `write LBA ${what}`);
    await rejectsTyped(t, () => ns.readBytes(lba, buf), 'PHYR_INVALID_IO', /offset/, `readBytes offset ${what}`);
    await rejectsTyped(t, () => ns.writeZeroes(lba, 1), 'PHYR_INVALID_IO', /LBA/, `writeZeroes LBA ${what}`);
    await rejectsTyped(t, () => ns.writeZeroes(0, lba), 'PHYR_INVALID_IO', /block count/, `writeZeroes count ${what}`);
    await rejectsTyped(t, () => ns.deallocate(lba, 1), 'PHYR_INVALID_IO', /LBA/, `deallocate LBA ${what}`);
    await rejectsTyped(t, () => ns.deallocate(0, lba), 'PHYR_INVALID_IO', /block count/, `deallocate count ${what}`);
  }
  await rejectsTyped(t, () => ns.writeZeroes(0, 0), 'PHYR_INVALID_IO', /block count 0/, 'writeZeroes 0 blocks');
  await rejectsTyped(t, () => ns.read(999, Buffer.alloc(1024)), 'PHYR_INVALID_IO', /pass the end/, 'read past the end');
  await rejectsTyped(t, () => ns.readBytes(1000 * 512 - 1, Buffer.alloc(2)), 'PHYR_INVALID_IO', /pass the end/, 'readBytes past the end');
  await rejectsTyped(t, () => ns.readBytes(2 ** 53 - 2, Buffer.alloc(4)), 'PHYR_INVALID_IO', /2\^53/, 'readBytes offset + length past 2^53');
  t.equal(submitted.length, 0, 'nothing was submitted');
  pool.close();
});

t.test('Namespace: buffers of the wrong kind, options, flush', async (t) => {
  const { ns, pool, submitted, usable } = rig();
  const wrong: Array<[string, unknown]> = [
    ['string', 'text'],
    ['number', 42],
    ['null', null],
    ['undefined', undefined],
    ['ArrayBuffer', new ArrayBuffer(512)],
    ['Array', new Array(512).fill(0)],
    ['Uint16Array', new Uint16Array(256)],
    ['plain object', {}],
    ['duck-typed DmaBuffer', { iova: 0x100000, size: 512, toPhyr: () => new PhyrArray() }],
  ];
  for (const [what, b] of wrong) {
    const code = what === 'duck-typed DmaBuffer' || what === 'plain object' ? 'PHYR_DMA_FOREIGN_BUFFER' : 'PHYR_INVALID_IO';
    await rejectsTyped(t, () => ns.read(0, b as Buffer), code, undefined, `read into a ${what}`);
    await rejectsTyped(t, () => ns.write(0, b as Buffer), code, undefined, `write from a ${what}`);
  }
  await rejectsTyped(t, () => ns.readBytes(0, new PhyrArray() as unknown as Buffer), 'PHYR_INVALID_IO', /phyr array/, 'readBytes into a phyr array');
  await rejectsTyped(t, () => ns.read(0, new PhyrArray()), 'PHYR_INVALID_IO', /empty/, 'read into an empty phyr array');
  await rejectsTyped(t, () => ns.read(0, Buffer.alloc(100)), 'PHYR_INVALID_IO', /multiple of the 512-byte/, 'read of 100 bytes');
  for (const [what, o] of [['string', 'fua'], ['number', 1], ['fua string', { fua: 'yes' }], ['fua number', { fua: 1 }]] as const) {
    await rejectsTyped(t, () => ns.write(0, Buffer.alloc(512), o as never), 'PHYR_INVALID_IO', /option|options/, `write options ${what}`);
  }
  // Detached at call time.
  const gone = new Uint8Array(512);
  structuredClone(gone, { transfer: [gone.buffer] });
  await rejectsTyped(t, () => ns.read(0, gone), 'PHYR_BUFFER_DETACHED', /detached/, 'read into a detached buffer');
  await rejectsTyped(t, () => ns.write(0, gone), 'PHYR_BUFFER_DETACHED', /detached/, 'write from a detached buffer');
  // Freed pool buffer.
  const d = pool.alloc(512);
  d.free();
  await rejectsTyped(t, () => ns.read(0, d), 'PHYR_DMA_FREED', undefined, 'read into a freed DmaBuffer');
  // flush() rejects, never throws, when the controller is unusable.
  usable.value = false;
  await rejectsTyped(t, () => ns.flush(), 'PHYR_CONTROLLER_CLOSED', undefined, 'flush on a closed controller');
  await rejectsTyped(t, () => ns.read(0, Buffer.alloc(512)), 'PHYR_CONTROLLER_CLOSED', undefined, 'read on a closed controller');
  usable.value = true;
  t.equal(submitted.length, 0, 'nothing was submitted');
  // A good call still goes through.
  void ns.read(0, Buffer.alloc(512));
  t.equal(submitted.length, 1, 'a valid read is enqueued');
  pool.close();
});

t.test('Namespace.explain: wrong types are typed errors', async (t) => {
  const { ns, pool } = rig();
  for (const [what, b] of [
    ['Buffer', Buffer.alloc(512)],
    ['Uint8Array', new Uint8Array(512)],
    ['string', 'x'],
    ['null', null],
    ['undefined', undefined],
    ['number', 7],
  ] as Array<[string, unknown]>) {
    throwsTyped(t, () => ns.explain(b as DmaBuffer), 'PHYR_INVALID_IO', undefined, `explain(${what})`);
  }
  throwsTyped(t, () => ns.explain({ iova: 0x100000, size: 4096, toPhyr: () => new PhyrArray() } as unknown as DmaBuffer), 'PHYR_DMA_FOREIGN_BUFFER', undefined, 'explain(duck-typed)');
  throwsTyped(t, () => ns.explain(new PhyrArray()), 'PHYR_INVALID_IO', /empty/, 'explain(empty phyr)');
  const gone = pool.alloc(4096).toPhyr(0, 4096);
  detach(gone.buffer);
  throwsTyped(t, () => ns.explain(gone), 'PHYR_BUFFER_DETACHED', undefined, 'explain(detached phyr)');
  const ok = pool.alloc(4096);
  t.ok(ns.explain(ok), 'a DmaBuffer of this pool is explained');
  pool.close();
});

t.test('PhyrArray: constructor, from, push and accessors', async (t) => {
  for (const [what, capacity] of [
    ['2**31', 2 ** 31],
    ['2**24 + 1', 2 ** 24 + 1],
    ['-1', -1],
    ['1.5', 1.5],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ["'8'", '8'],
    ['null', null],
  ] as Array<[string, unknown]>) {
    throwsTyped(t, () => new PhyrArray({ capacity: capacity as number }), 'PHYR_ARRAY_BAD_ARGUMENT', /capacity/, `capacity ${what}`);
  }
  throwsTyped(t, () => new PhyrArray(null as never), 'PHYR_ARRAY_BAD_ARGUMENT', /options/, 'options null');
  throwsTyped(t, () => new PhyrArray(5 as never), 'PHYR_ARRAY_BAD_ARGUMENT', /options/, 'options number');
  throwsTyped(t, () => new PhyrArray({ dwordAligned: 'yes' as never }), 'PHYR_ARRAY_BAD_ARGUMENT', /dwordAligned/, 'dwordAligned string');
  t.equal(new PhyrArray({ capacity: 0 }).length, 0, 'capacity 0 is allowed (grows on demand)');
  throwsTyped(t, () => PhyrArray.from(null as never), 'PHYR_ARRAY_BAD_ARGUMENT', /iterable/, 'from(null)');
  throwsTyped(t, () => PhyrArray.from(5 as never), 'PHYR_ARRAY_BAD_ARGUMENT', /iterable/, 'from(5)');
  throwsTyped(t, () => PhyrArray.from([null] as never), 'PHYR_BAD_ENTRY', /entry 0/, 'from([null])');
  throwsTyped(t, () => PhyrArray.from([{ addr: '4096', len: 4096 }] as never), 'PHYR_BAD_ENTRY', /string/, 'from string addr');
  const p = new PhyrArray();
  throwsTyped(t, () => p.push('4096' as never, 4096), 'PHYR_BAD_ENTRY', /'4096' \(a string\)/, 'push string address');
  throwsTyped(t, () => p.push(4096, '4096' as never), 'PHYR_BAD_ENTRY', /string/, 'push string length');
  throwsTyped(t, () => p.push(4096, 4096, null as never), 'PHYR_BAD_ENTRY', /flags/, 'push null flags');
  throwsTyped(t, () => p.push(4096, 4096, 'x' as never), 'PHYR_BAD_ENTRY', /flags/, 'push string flags');
  throwsTyped(t, () => p.push(4096n, '1' as never), 'PHYR_BAD_ENTRY', /string/, 'push BigInt address, string length');
  p.push(4096, 4096);
  for (const [what, i] of [['-1', -1], ['1 (past the end)', 1], ['0.5', 0.5], ["'0'", '0'], ['NaN', NaN]] as Array<[string, unknown]>) {
    throwsTyped(t, () => p.addrAt(i as number), 'PHYR_ARRAY_BAD_ARGUMENT', /index/, `addrAt(${what})`);
    throwsTyped(t, () => p.lenAt(i as number), 'PHYR_ARRAY_BAD_ARGUMENT', /index/, `lenAt(${what})`);
  }
  throwsTyped(t, () => p.flagsAt(9), 'PHYR_ARRAY_BAD_ARGUMENT', /index/, 'flagsAt(9)');
  throwsTyped(t, () => p.addrBigAt(9), 'PHYR_ARRAY_BAD_ARGUMENT', /index/, 'addrBigAt(9)');
  t.equal(p.addrAt(0), 4096, 'a valid index still works');
  detach(p.buffer);
  t.equal(p.detached, true);
  throwsTyped(t, () => p.addrAt(0), 'PHYR_ARRAY_BAD_ARGUMENT', /detached/, 'addrAt on a detached array');
  throwsTyped(t, () => p.push(8192, 4096), 'PHYR_ARRAY_BAD_ARGUMENT', /detached/, 'push on a detached array');
});

t.test('DmaPool and DmaBuffer: wrong types and sizes', async (t) => {
  const pool = new DmaPool(new RecordingFunction(undefined, (m, o) => native.pageOffset(m, o)), { hugepages: 'off' });
  for (const [what, size] of badNumbers) throwsTyped(t, () => pool.alloc(size as number), 'PHYR_DMA_BAD_ARGUMENT', /size/, `alloc(${what})`);
  throwsTyped(t, () => pool.alloc(0), 'PHYR_DMA_BAD_ARGUMENT', /size/, 'alloc(0)');
  throwsTyped(t, () => pool.alloc(4096, null as never), 'PHYR_DMA_BAD_ARGUMENT', /options/, 'alloc options null');
  throwsTyped(t, () => pool.alloc(4096, { align: 3 }), 'PHYR_DMA_BAD_ARGUMENT', /power of two/, 'alloc align 3');
  throwsTyped(t, () => pool.alloc(4096, { align: '4096' as never }), 'PHYR_DMA_BAD_ARGUMENT', /power of two/, 'alloc align string');
  throwsTyped(t, () => pool.alloc(4096, { internal: 'yes' as never }), 'PHYR_DMA_BAD_ARGUMENT', /internal/, 'alloc internal string');
  const b = pool.alloc(4096);
  for (const [what, v] of badNumbers) {
    throwsTyped(t, () => b.iovaAt(v as number), 'PHYR_DMA_BAD_ARGUMENT', /offset/, `iovaAt(${what})`);
    throwsTyped(t, () => b.toPhyr(v as number, 1), 'PHYR_DMA_BAD_ARGUMENT', /offset/, `toPhyr offset ${what}`);
    throwsTyped(t, () => b.toPhyr(0, v as number), 'PHYR_DMA_BAD_ARGUMENT', /length/, `toPhyr length ${what}`);
  }
  throwsTyped(t, () => b.iovaAt(4096), 'PHYR_DMA_BAD_ARGUMENT', /outside/, 'iovaAt(size)');
  for (const [what, v] of [['string', 'x'], ['null', null], ['number', 1], ['ArrayBuffer', new ArrayBuffer(8)], ['plain Array', [1, 2]]] as Array<[string, unknown]>) {
    throwsTyped(t, () => pool.mapForIo(v as Uint8Array), 'PHYR_DMA_BAD_ARGUMENT', /mapForIo needs/, `mapForIo(${what})`);
  }
  throwsTyped(t, () => pool.mapForIo(new Uint8Array(new SharedArrayBuffer(8))), 'PHYR_DMA_BAD_ARGUMENT', /SharedArrayBuffer/, 'mapForIo(SharedArrayBuffer view)');
  throwsTyped(t, () => pool.mapForIo(new Uint8Array(0)), 'PHYR_DMA_BAD_ARGUMENT', /non-empty/, 'mapForIo(empty)');
  const gone = new Uint8Array(64);
  structuredClone(gone, { transfer: [gone.buffer] });
  throwsTyped(t, () => pool.mapForIo(gone), 'PHYR_BUFFER_DETACHED', /detached/, 'mapForIo(detached)');
  const bar = new ArrayBuffer(1 << 16);
  throwsTyped(t, () => pool.mapDeviceMemory('bar' as never, 0, 4096, 4), 'PHYR_DMA_BAD_ARGUMENT', undefined, 'mapDeviceMemory(string)');
  throwsTyped(t, () => pool.mapDeviceMemory(bar, 100, 4096, 4), 'PHYR_DMA_BAD_ARGUMENT', /offset/, 'mapDeviceMemory unaligned offset');
  throwsTyped(t, () => pool.mapDeviceMemory(bar, 0, 2 ** 20, 4), 'PHYR_DMA_BAD_ARGUMENT', /does not fit/, 'mapDeviceMemory too long');
  throwsTyped(t, () => pool.mapDeviceMemory(bar, 0, 4096, 1), 'PHYR_DMA_BAD_ARGUMENT', /flags/, 'mapDeviceMemory host flags');
  b.free();
  throwsTyped(t, () => b.free(), 'PHYR_DMA_FREED', undefined, 'double free');
  throwsTyped(t, () => b.bytes, 'PHYR_DMA_FREED', undefined, 'bytes after free');
  throwsTyped(t, () => new DmaPool(null as never), 'PHYR_DMA_BAD_ARGUMENT', /PciFunction/, 'DmaPool(null)');
  pool.close();
  throwsTyped(t, () => pool.alloc(4096), 'PHYR_DMA_CLOSED', undefined, 'alloc after close');
});

t.test('QueuePair batch API: slots, entries and fields that do not exist', async (t) => {
  const sq = new ArrayBuffer(16 * 64);
  const cq = new ArrayBuffer(16 * 16);
  const lists = new ArrayBuffer(12 * 4096);
  const qp = new QueuePair({
    id: 1,
    size: 16,
    bar: new ArrayBuffer(0x2000),
    doorbellStride: 0,
    sq: { buffer: sq, offset: 0, iova: 0x10000 },
    cq: { buffer: cq, offset: 0, iova: 0x20000 },
    lists: { buffer: lists, offset: 0, iova: 0x100000, pages: 12 },
    caps: { pageSize: 4096, sglSupport: 0, bitBucket: false, maxTransfer: 0 },
    slots: 4,
    arenaEntries: 8,
  });
  const code = 'PHYR_QUEUE_BAD_ARGUMENT';
  // setIo on a slot that does not exist used to be ignored silently.
  throwsTyped(t, () => qp.setIo(4, 2, 1, 0, 8, 512, 0, 1, 0), code, /slot 4 does not exist \(slots 0\.\.3\)/, 'setIo slot 4 of 4');
  for (const [what, v] of badNumbers) {
    throwsTyped(t, () => qp.setIo(v as number, 2, 1, 0, 8, 512, 0, 1, 0), code, /slot/, `setIo slot ${what}`);
    throwsTyped(t, () => qp.setIo(0, 2, 1, v as number, 8, 512, 0, 1, 0), code, /LBA/, `setIo LBA ${what}`);
    throwsTyped(t, () => qp.setIo(0, 2, 1, 0, v as number, 512, 0, 1, 0), code, /block count/, `setIo blocks ${what}`);
    throwsTyped(t, () => qp.setIo(0, 2, 1, 0, 8, 512, v as number, 1, 0), code, /arena/, `setIo first ${what}`);
    throwsTyped(t, () => qp.setIo(0, 2, 1, 0, 8, 512, 0, 1, v as number), code, /tag/, `setIo tag ${what}`);
    throwsTyped(t, () => qp.setEntry(v as number, 0x400000, 4096), code, /entry/, `setEntry index ${what}`);
    throwsTyped(t, () => qp.setEntry(0, v as number, 4096), code, /address/, `setEntry address ${what}`);
    throwsTyped(t, () => qp.setEntry(0, 0x400000, v as number), code, /length/, `setEntry length ${what}`);
    throwsTyped(t, () => qp.setEntry(0, 0x400000, 4096, v as number), code, /flags/, `setEntry flags ${what}`);
  }
  throwsTyped(t, () => qp.setIo(0, 256, 1, 0, 8, 512, 0, 1, 0), code, /opcode/, 'setIo opcode 256');
  throwsTyped(t, () => qp.setIo(0, 2, -1, 0, 8, 512, 0, 1, 0), code, /nsid/, 'setIo nsid -1');
  throwsTyped(t, () => qp.setIo(0, 2, 1, 0, 2 ** 32, 512, 0, 1, 0), code, /block count/, 'setIo 2^32 blocks (the request word is 32 bits)');
  throwsTyped(t, () => qp.setIo(0, 2, 1, 0, 8, 1000, 0, 1, 0), code, /LBA size/, 'setIo LBA size 1000');
  throwsTyped(t, () => qp.setIo(0, 2, 1, 0, 8, 512, 7, 2, 0), code, /arena/, 'setIo entries past the arena');
  throwsTyped(t, () => qp.setRaw(0, 9, 1, -1, 0, 0, 1, 16, 0), code, /cdw10/, 'setRaw cdw10 -1');
  throwsTyped(t, () => qp.setRaw(0, 9, 1, 0, 0, 0, 1, 1.5, 0), code, /dataBytes/, 'setRaw dataBytes 1.5');
  throwsTyped(t, () => qp.setEntry(8, 0x400000, 4096), code, /entry 8/, 'setEntry past the arena');
  throwsTyped(t, () => qp.setEntry(0, 0x400000, 0), code, /length/, 'setEntry length 0');
  throwsTyped(t, () => qp.setEntry(0, 0x400000, 2 ** 32), code, /length/, 'setEntry length 2^32');
  throwsTyped(t, () => qp.setEntry(0, 0x400000, 4096, 0x100), code, /flags/, 'setEntry unknown flag');
  throwsTyped(t, () => qp.submitBatch(3, 2), code, /request slots/, 'submitBatch past the slots');
  throwsTyped(t, () => qp.submitBatch(-1, 1), code, /request slots/, 'submitBatch -1');
  throwsTyped(t, () => qp.submitBatch('0' as never, 1), code, /request slots/, "submitBatch '0'");
  throwsTyped(t, () => qp.reap(-1), code, /max/, 'reap(-1)');
  throwsTyped(t, () => qp.reap(NaN), code, /max/, 'reap(NaN)');
  throwsTyped(t, () => qp.submitRaw(new Uint8Array(63), 0), code, /64-byte/, 'submitRaw 63-byte SQE');
  throwsTyped(t, () => qp.submitRaw('sqe' as never, 0), code, /64-byte/, 'submitRaw string');
  throwsTyped(t, () => qp.submitRaw(new Uint8Array(64), 0, 0, 9), code, /arena/, 'submitRaw entries past the arena');
  throwsTyped(t, () => qp.submitRaw(new Uint8Array(64), 0, 0, 0, -1), code, /bytes/, 'submitRaw bytes -1');
  throwsTyped(t, () => qp.ensureArena(2 ** 40), code, /ensureArena/, 'ensureArena(2^40)');
  throwsTyped(t, () => qp.ensureArena(1e9 + 0.5), code, /ensureArena/, 'ensureArena(fractional)');
  throwsTyped(t, () => qp.ensureArena(5n as never), code, /ensureArena/, 'ensureArena(BigInt)');
  throwsTyped(t, () => qp.ensureArena('99' as never), code, /ensureArena/, "ensureArena('99')");
  // Valid calls still work.
  qp.setEntry(0, 0x400000, 4096);
  qp.setIo(3, 2, 1, 0, 8, 512, 0, 1, 0);
  t.equal(qp.arena[2], 4096);
  await qp.close();
  throwsTyped(t, () => qp.submitBatch(0, 1), 'PHYR_QUEUE_CLOSED', undefined, 'submitBatch after close');
});

t.test('bad inputs tried', async (t) => {
  t.ok(tried > 200, `${tried} bad inputs tried, each a typed PhyrError`);
  t.comment(`bad inputs tried: ${tried}`);
});
