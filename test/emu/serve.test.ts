// phyr serve on the embedded controller: a client attaches over the socket (0600), sees
// the namespaces, identifies through the daemon, and does verified IO on its own queue
// pairs — the namespace API and the batch API; the daemon logs attach and detach, answers
// every malformed message with a typed error and keeps serving, refuses memory outside a
// client's window, and on SIGTERM tells its clients, removes the socket and exits 0.
import t from 'tap';
import * as fs from 'fs';
import { connect, NVME, ServeClosedError, ServeRequestError } from '../../index';
import { CPL, CPL_STATUS_MASK, CPL_WORDS } from '../../drivers/nvme';
import { DmaPool, NotDataMemoryError } from '../../lib/dma';
import { openEmu } from '../../emu';
import { closeChannelFd, connectSocket, createSharedMemory, receiveMessage, sendMessage, waitReadable } from '../../lib/channel';
import { startDaemon, stopDaemon, tmpDir } from './fixtures/serve-helpers';
import { SERVE_PROTOCOL_VERSION } from '../../serve/protocol';

const dir = tmpDir();
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

t.test('a client does verified IO through its own queues; detach and SIGTERM are clean', async (t) => {
  const d = await startDaemon(dir);
  t.teardown(() => stopDaemon(d));
  t.equal(fs.statSync(d.socket).mode & 0o777, 0o600, 'the socket is 0600');
  const c = await connect(d.socket, { hugepages: 'off' });
  await d.waitFor(/client 1 attached \(pid \d+/);
  t.same(c.namespaces().map((n) => [n.nsid, n.lbaSize, n.blocks]), [[1, 512, 32768]]);
  const ns = c.namespace(1);
  t.equal((await ns.identify()).nsze, 32768, 'Identify Namespace through the daemon');

  const buf = c.pool.alloc(16384);
  for (let i = 0; i < buf.size; i++) buf.bytes[i] = (i * 7 + 3) & 0xff;
  await ns.write(64, buf);
  const back = c.pool.alloc(16384);
  await ns.read(64, back);
  t.same(Buffer.from(back.bytes), Buffer.from(buf.bytes), 'pool memory: what was written reads back');
  const plain = Buffer.alloc(1024, 0x5e);
  await ns.write(7, plain);
  const got = Buffer.alloc(1024);
  await ns.read(7, got);
  t.same(got, plain, 'a plain Buffer goes through pool memory');
  await ns.flush();
  await t.rejects(ns.read(32767, Buffer.alloc(1024)), ServeRequestError, 'past the end of the namespace');
  // Wrong types and numbers are refused with what was wrong, before anything is sent.
  for (const [lba, b, what] of [[0, 'x', /not 'x'/], [0, null, /not null/], [0, 42, /not number/], [-1, Buffer.alloc(512), /LBA -1/], [1.5, Buffer.alloc(512), /LBA 1.5/], [Infinity, Buffer.alloc(512), /LBA Infinity/], [0, Buffer.alloc(0), /0 bytes/], [0, Buffer.alloc(513), /513 bytes/]] as const) {
    await t.rejects(ns.read(lba, b as unknown as Uint8Array), { code: 'PHYR_INVALID_IO', message: what }, `read(${String(lba)}, ${b === null ? 'null' : typeof b}) refused`);
  }
  // Another pool's buffer (here one of this process's own controller) is not this client's
  // memory: the per-client check refuses it before it reaches the device.
  const other = openEmu('emu:backend=null');
  const foreign = new DmaPool(other, { hugepages: 'off' }).alloc(4096);
  const small = await connect(d.socket, { hugepages: 'off', ioQueueSize: 4 }); // 3 commands in flight at most
  for (let i = 0; i < 4; i++) await t.rejects(small.namespace(1).write(0, foreign), NotDataMemoryError, `refused IO ${i}: a buffer outside this client's pool`);
  await small.namespace(1).write(0, small.pool.alloc(4096)); // the refused IOs gave their slots back
  await small.close();
  other.close();
  t.throws(() => c.namespace(2), /namespace 2 is not active/);

  // The batch API on a second queue pair of this client.
  const qp = await c.createQueuePair({ size: 32 });
  t.ok(qp.id >= 2, `queue pair ${qp.id} is the daemon's choice`);
  const data = c.pool.alloc(4096);
  qp.setEntry(0, data.iova, 4096);
  qp.setIo(0, NVME.IO_READ, 1, 64, 8, 512, 0, 1, 42);
  t.equal(qp.submitBatch(0, 1), 1);
  let n = 0;
  for (let spins = 0; n === 0 && spins < 1e6; spins++) n = qp.reap();
  t.equal(n, 1, 'one completion, polled');
  t.equal(qp.completions[CPL.TAG], 42);
  t.equal(qp.completions[CPL.STATUS_FLAGS] & CPL_STATUS_MASK, 0);
  t.ok(CPL_WORDS > 0);
  t.same(Buffer.from(data.bytes), Buffer.from(buf.bytes.subarray(0, 4096)), 'the batch read saw the earlier write');
  // A data pointer outside this client's memory is refused before it reaches the device.
  t.throws(() => qp.setEntry(1, 0x100000, 4096), /not .*data|pool/i, "the daemon's memory is not this client's data");
  await qp.close();

  const status = await c.status();
  t.equal(status.clients, 1);
  t.equal(status.attached, 2, 'this client and the small one');
  await c.close();
  await d.waitFor(/client 1 detached/);
  t.equal(await stopDaemon(d), 0, 'SIGTERM: exit 0');
  t.ok(d.lines.some((l) => /stopped \(SIGTERM received\)/.test(l)));
  t.notOk(fs.existsSync(d.socket), 'the socket is removed');
});

t.test('a client sees a clear error when the daemon shuts down', async (t) => {
  const d = await startDaemon(dir);
  const c = await connect(d.socket, { hugepages: 'off' });
  await c.namespace(1).write(0, Buffer.alloc(512, 1));
  d.child.kill('SIGTERM');
  t.equal(await d.exited, 0);
  const e = await c.namespace(1).read(0, Buffer.alloc(512)).then(() => undefined, (x: unknown) => x);
  t.ok(e instanceof ServeClosedError, `IO after the shutdown fails with ServeClosedError: ${(e as Error)?.message}`);
  t.match((e as Error).message, /SIGTERM received|closed/);
  await c.close();
});

// Sends one raw message and returns the parsed answer.
function ask(fd: number, body: unknown, fds: number[] = []): Record<string, unknown> {
  sendMessage(fd, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), fds);
  if (!waitReadable(fd, 10_000)) throw new Error('no answer');
  const m = receiveMessage(fd);
  for (const f of m?.fds ?? []) closeChannelFd(f);
  return JSON.parse(m!.data.toString());
}

t.test('every malformed message gets a typed error and the daemon keeps serving', async (t) => {
  const d = await startDaemon(dir);
  t.teardown(() => stopDaemon(d));
  const fd = connectSocket(d.socket);
  const bad: Array<[unknown, RegExp]> = [
    ['not json', /not JSON/],
    ['[1,2]', /must be a JSON object/],
    [{ type: 'launch', id: 1 }, /request type "launch" is not one of/],
    [{ type: 'status' }, /id must be a positive integer/],
    [{ type: 'map', id: 2, iova: -1, length: 4096 }, /iova must be a non-negative integer/],
    [{ type: 'map', id: 3, iova: 0, length: 4096 }, /carries 0 file descriptors, expected 1/],
    [{ type: 'createQueuePair', id: 4, size: 8, sqIova: 0, cqIova: 0 }, /attach first/],
    [{ type: 'attach', id: 5, version: 99 }, /protocol version 99/],
  ];
  for (const [body, re] of bad) {
    const r = ask(fd, body);
    t.equal(r.type, 'error', JSON.stringify(body));
    t.match(String(r.message), re);
    t.match(String(r.code), /^PHYR_/);
  }
  const attached = ask(fd, { type: 'attach', id: 10, version: SERVE_PROTOCOL_VERSION });
  t.equal(attached.type, 'attached');
  const win = (attached.info as { iova: { start: number; end: number } }).iova;
  const mem = createSharedMemory(8192);
  const outside = ask(fd, { type: 'map', id: 11, iova: win.start - 8192, length: 8192 }, [mem.fd]);
  t.equal(outside.code, 'PHYR_SERVE_BAD_RANGE', "memory outside the client's window is refused");
  const ok = ask(fd, { type: 'map', id: 12, iova: win.start, length: 8192 }, [mem.fd]);
  t.equal(ok.type, 'ok');
  const notMine = ask(fd, { type: 'createQueuePair', id: 13, size: 8, sqIova: win.start + 2 ** 20, cqIova: win.start });
  t.equal(notMine.code, 'PHYR_SERVE_BAD_RANGE', 'rings must lie in memory the client mapped');
  const refused = ask(fd, { type: 'identify', id: 14, cns: NVME.CNS_ACTIVE_NS_LIST, nsid: 0 });
  t.equal(refused.code, 'PHYR_SERVE_REFUSED');
  const status = ask(fd, { type: 'status', id: 15 });
  t.equal((status.status as { badMessages: number }).badMessages, 6, 'parse failures counted');
  closeChannelFd(fd);
  await d.waitFor(/client 1 detached .*released 0 queue pairs, 1 mappings/);
  const c = await connect(d.socket, { hugepages: 'off' });
  await c.namespace(1).write(0, Buffer.alloc(512, 2));
  t.equal((await c.status()).releasedMappings, 1, 'the dead connection\'s mapping was released and counted');
  await c.close();
});

t.test('--group makes the socket 0660 and owned by that group', async (t) => {
  const gid = process.getgid?.() as number;
  const d = await startDaemon(dir, 'emu:backend=null', ['--group', String(gid)]);
  t.teardown(() => stopDaemon(d));
  const st = fs.statSync(d.socket);
  t.equal(st.mode & 0o777, 0o660, 'mode 0660');
  t.equal(st.gid, gid, 'the group asked for');
  t.ok(d.lines.some((l) => /on .*phyr.sock \(mode 660,/.test(l)), 'the start line says so');
});

t.test('IO in flight when the daemon is killed fails with ServeClosedError, not a hang', async (t) => {
  const d = await startDaemon(dir, 'emu:backend=ram,size=16M,latency=20ms');
  const c = await connect(d.socket, { hugepages: 'off' });
  const ns = c.namespace(1);
  await ns.write(0, Buffer.alloc(512, 1));
  const inFlight = Array.from({ length: 8 }, (_, i) => ns.write(8 * i, Buffer.alloc(4096, i)).then(() => 'done', (e: unknown) => e));
  d.child.kill('SIGKILL');
  const results = await Promise.all(inFlight);
  const failed = results.filter((r) => r instanceof ServeClosedError).length;
  t.equal(failed + results.filter((r) => r === 'done').length, 8, 'each IO completed or failed with ServeClosedError');
  t.ok(failed > 0, `${failed} IOs in flight failed with the reason`);
  await t.rejects(ns.read(0, Buffer.alloc(512)), ServeClosedError, 'and every later one at once');
  await c.close();
});
