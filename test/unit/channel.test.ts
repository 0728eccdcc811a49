// The channel (lib/channel.ts): a memfd sent by another process maps onto the same pages,
// messages keep their boundaries and descriptors, a dead peer reads as closed, the
// socket is created 0600, and bad input is a typed ChannelError.
import t from 'tap';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  acceptConnection,
  ChannelError,
  channelStats,
  closeChannelFd,
  connectSocket,
  createSharedMemory,
  listenSocket,
  mapSharedMemory,
  peerOf,
  receiveMessage,
  sendMessage,
  waitReadable,
  watchSocket,
} from '../../lib/channel';

const addon = path.resolve(__dirname, '../../build/Release/phyr.node');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-chan-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

// A second process: connects, sends 8 KiB of shared memory filled with 0x5a and a JSON
// line, then waits for one byte back and writes 0xa5 at offset 100 before exiting.
const CHILD = `
const A = require(process.argv[1]).channel;
const fd = A.connect(process.argv[2]);
const m = A.createShared(8192, false);
new Uint8Array(m.memory).fill(0x5a);
A.send(fd, Buffer.from(JSON.stringify({ hello: 'from child' })), [m.fd]);
while (!A.waitReadable(fd, 10000)) {}
A.receive(fd);
new Uint8Array(m.memory)[100] = 0xa5;
A.send(fd, Buffer.from('done'), []);
setTimeout(() => {}, 200);
`;

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

function nextMessage(fd: number) {
  return new Promise<NonNullable<ReturnType<typeof receiveMessage>>>((resolve) => {
    const w = watchSocket(fd, () => {
      const m = receiveMessage(fd);
      if (!m) return;
      w.close();
      resolve(m);
    });
  });
}

t.test('a memfd from another process maps onto the same pages; its exit reads as closed', async (t) => {
  const sock = path.join(tmp, 'a.sock');
  const lfd = listenSocket(sock, 0o600);
  t.equal(fs.statSync(sock).mode & 0o777, 0o600, 'socket file 0600');
  const child = spawn(process.execPath, ['-e', CHILD, addon, sock], { stdio: ['ignore', 'inherit', 'inherit'] });
  let conn: number | null = null;
  await new Promise<void>((resolve) => {
    const w = watchSocket(lfd, () => {
      conn = acceptConnection(lfd);
      if (conn !== null) {
        w.close();
        resolve();
      }
    });
  });
  const fd = conn as unknown as number;
  t.equal(peerOf(fd).pid, child.pid, 'SO_PEERCRED names the child');
  const first = await nextMessage(fd);
  t.same(JSON.parse(first.data.toString()), { hello: 'from child' });
  t.equal(first.fds.length, 1, 'one descriptor with the message');
  const mem = new Uint8Array(mapSharedMemory(first.fds[0], 8192));
  closeChannelFd(first.fds[0]);
  t.equal(mem[4000], 0x5a, 'the child wrote these pages');
  t.ok(sendMessage(fd, new Uint8Array([1])));
  const second = await nextMessage(fd);
  t.equal(second.data.toString(), 'done');
  t.equal(mem[100], 0xa5, "the child's later write is seen here: one set of pages");
  const closed = await nextMessage(fd);
  t.equal(closed.closed, true, 'the exit reads as closed');
  closeChannelFd(fd);
  closeChannelFd(lfd);
  fs.unlinkSync(sock);
});

t.test('bad input is a typed ChannelError naming what was wrong', async (t) => {
  const sock = path.join(tmp, 'b.sock');
  const lfd = listenSocket(sock, 0o600);
  const taken = thrown(() => listenSocket(sock, 0o600));
  t.ok(taken instanceof ChannelError && taken.code === 'PHYR_CHANNEL_FAILED' && taken.errno === os.constants.errno.EADDRINUSE, 'a live path is never taken over (EADDRINUSE)');
  t.throws(() => connectSocket(path.join(tmp, 'none.sock')), /cannot connect to .*none\.sock/);
  const stdout = thrown(() => closeChannelFd(1));
  t.ok(stdout instanceof ChannelError && stdout.code === 'PHYR_NOT_CHANNEL_FD', "stdout is not the channel's to close");
  t.throws(() => sendMessage(lfd, new Uint8Array(0)), /a message is 1\.\./);
  t.throws(() => createSharedMemory(4096, true), /multiple of 2097152/);
  const c = connectSocket(sock);
  const s = acceptConnection(lfd) as number;
  const plain = createSharedMemory(4096);
  t.ok(sendMessage(c, new Uint8Array([7]), [plain.fd]));
  t.ok(waitReadable(s, 1000));
  const m = receiveMessage(s);
  t.throws(() => mapSharedMemory(m!.fds[0], 8192), /at least that many bytes/, 'past the end of the memfd');
  t.equal(receiveMessage(s), null, 'nothing else waiting');
  const before = channelStats().ownedFds;
  for (const f of [...m!.fds, c, s, lfd]) closeChannelFd(f);
  t.equal(channelStats().ownedFds, before - 4);
  fs.unlinkSync(sock);
});
