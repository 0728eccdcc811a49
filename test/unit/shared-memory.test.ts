// Shareable memory for phyr serve: a DMA pool with { shared: true } keeps its chunks in
// memfds another process can map, and the embedded controller with shared=on keeps BAR0
// in one. Both are checked through a second mapping made from the descriptor as a client
// would receive it, and IO through the driver runs on both.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { acceptConnection, closeChannelFd, connectSocket, listenSocket, mapSharedMemory, receiveMessage, sendMessage, sharedMemoryFd, waitReadable } from '../../lib/channel';
import { DmaArgumentError, DmaPool } from '../../lib/dma';
import { openEmu } from '../../emu';
import { Controller } from '../../drivers/nvme';
import { NVME } from '../../spec/nvme';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-shm-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Sends `fd` to ourselves through a socket and maps what arrives, as a peer process would.
function mapAsPeer(fd: number, size: number): Uint8Array {
  const sock = path.join(tmp, `s${Math.random().toString(36).slice(2)}`);
  const l = listenSocket(sock, 0o600);
  const c = connectSocket(sock);
  const s = acceptConnection(l) as number;
  sendMessage(c, new Uint8Array([1]), [fd]);
  waitReadable(s, 1000);
  const m = receiveMessage(s);
  const view = new Uint8Array(mapSharedMemory(m!.fds[0], size));
  for (const f of [m!.fds[0], c, s, l]) closeChannelFd(f);
  fs.unlinkSync(sock);
  return view;
}

t.test('a shared pool keeps its chunks in memfds: a second mapping sees the same bytes', async (t) => {
  const fn = openEmu('emu:backend=ram,size=4M');
  const pool = new DmaPool(fn, { hugepages: 'off', shared: true });
  const buf = pool.alloc(8192);
  const chunk = buf.bytes.buffer as ArrayBuffer;
  const fd = sharedMemoryFd(chunk);
  t.ok(fd !== undefined && fd > 2, 'the chunk has a memfd');
  const peer = mapAsPeer(fd as number, chunk.byteLength);
  buf.bytes[10] = 0x77;
  t.equal(peer[buf.bytes.byteOffset + 10], 0x77, 'the peer sees the pool write');
  peer[buf.bytes.byteOffset + 11] = 0x66;
  t.equal(buf.bytes[11], 0x66, 'and the pool sees the peer write');
  pool.close();
  const privatePool = new DmaPool(fn, { hugepages: 'off' });
  t.equal(sharedMemoryFd(privatePool.alloc(4096).bytes.buffer as ArrayBuffer), undefined, 'private by default');
  t.throws(() => new DmaPool(fn, { shared: 'yes' as unknown as boolean }), DmaArgumentError);
  privatePool.close();
  fn.close();
});

t.test('shared=on: BAR0 is a memfd; the second mapping shows the live registers', async (t) => {
  const fn = openEmu('emu:backend=ram,size=4M,shared=on');
  const ctrl = await Controller.open(fn, { pool: { hugepages: 'off', shared: true } });
  const bar = mapAsPeer(fn.barFd(0), fn.barSize(0));
  const csts = new DataView(bar.buffer).getUint32(NVME.REG_CSTS, true);
  t.equal(csts & NVME.CSTS_RDY, NVME.CSTS_RDY, 'CSTS.RDY through the peer mapping');
  const data = ctrl.pool.alloc(4096);
  data.bytes.fill(0x3c);
  await ctrl.namespace(1).write(0, data);
  data.bytes.fill(0);
  await ctrl.namespace(1).read(0, data);
  t.ok(data.bytes.every((b) => b === 0x3c), 'IO through a shared pool and a shared BAR');
  await ctrl.close();
  const plain = openEmu('emu:backend=null');
  t.throws(() => plain.barFd(0), /not in shared memory \(open the function with shared=on/);
  plain.close();
});
