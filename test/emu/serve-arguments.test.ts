// serve/'s public entry points check their arguments (InvalidArgumentError, as open()), and a
// connect() that finds no daemon says what is at the path and what to do (ServeConnectError).
import t from 'tap';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { connect, ServeConnectError } from '../../index';
import { ServeDaemon } from '../../serve';
import { startDaemon, stopDaemon, tmpDir } from './fixtures/serve-helpers';

const dir = tmpDir();
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const BAD = { code: 'PHYR_INVALID_ARGUMENT' };

t.test('connect() refuses bad arguments before touching the socket', async (t) => {
  for (const p of [undefined, null, 42, '', {}, 'a\0b', `/tmp/${'x'.repeat(200)}`]) {
    await t.rejects(connect(p as unknown as string), BAD, `socket path ${JSON.stringify(p) ?? String(p)}`);
  }
  const sock = path.join(dir, 'none.sock');
  for (const o of [null, 'x', [], { ioQueueSize: 1.5 }, { ioQueueSize: 1 }, { ioQueueSize: 2 ** 40 }, { ioQueueSize: '8' }, { requestTimeoutMs: -1 }, { requestTimeoutMs: Number.MAX_SAFE_INTEGER }, { requestTimeoutMs: NaN }, { hugepages: 'yes' }, { bogus: 1 }]) {
    await t.rejects(connect(sock, o as never), BAD, `options ${JSON.stringify(o)}`);
  }
});

t.test('a failed connect() names what is at the path', async (t) => {
  const missing = path.join(dir, 'missing.sock');
  await t.rejects(connect(missing), { code: 'PHYR_SERVE_CONNECT', reason: 'missing', message: /nothing exists at .*missing\.sock.*phyr serve .*--socket / }, 'nothing there');
  const file = path.join(dir, 'file');
  fs.writeFileSync(file, '');
  await t.rejects(connect(file), { code: 'PHYR_SERVE_CONNECT', reason: 'not-socket', message: /is a regular file, not the socket.*--socket / }, 'a regular file');
  await t.rejects(connect(dir), { code: 'PHYR_SERVE_CONNECT', reason: 'not-socket', message: /is a directory/ }, 'a directory');
  // A socket nobody listens on: bound, then the server closed (the file stays).
  const stale = path.join(dir, 'stale.sock');
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(stale, r));
  await new Promise<void>((r) => srv.close(() => r()));
  if (!fs.existsSync(stale)) {
    // Node unlinks on close: make a stale one by hand through a bound-but-closed pair.
    const s2 = net.createServer();
    await new Promise<void>((r) => s2.listen(stale, r));
    fs.renameSync(stale, `${stale}.x`);
    await new Promise<void>((r) => s2.close(() => r()));
    fs.renameSync(`${stale}.x`, stale);
  }
  const e = await connect(stale).then(
    () => undefined,
    (x: unknown) => x,
  );
  t.ok(e instanceof ServeConnectError, 'a ServeConnectError');
  t.match(e, { code: 'PHYR_SERVE_CONNECT', reason: 'no-daemon', message: /no daemon is listening.*--socket / }, 'no daemon listening');
  if (process.getuid?.() !== 0) {
    const closed = path.join(dir, 'closed');
    fs.mkdirSync(closed, { mode: 0o000 });
    await t.rejects(connect(path.join(closed, 's.sock')), { code: 'PHYR_SERVE_CONNECT', reason: 'permission', message: /permission denied/ }, 'permission denied');
  } else {
    t.comment('running as root: the permission case cannot be made (root passes every mode check)');
  }
});

t.test("the daemon's options and a client's calls check their arguments", async (t) => {
  for (const [target, o] of [[42, { socket: '/tmp/x.sock' }], ['', { socket: '/tmp/x.sock' }], ['emu', undefined], ['emu', { socket: '' }], ['emu', { socket: 7 }], ['emu', { socket: '/tmp/x.sock', group: 1.5 }], ['emu', { socket: '/tmp/x.sock', group: -1 }], ['emu', { socket: '/tmp/x.sock', log: 'yes' }], ['emu', { socket: '/tmp/x.sock', extra: 1 }]] as const) {
    await t.rejects(ServeDaemon.start(target as unknown as string, o as never), BAD, `ServeDaemon.start(${JSON.stringify(target)}, ${JSON.stringify(o)})`);
  }
  const d = await startDaemon(dir);
  t.teardown(() => stopDaemon(d));
  const c = await connect(d.socket, { hugepages: 'off' });
  for (const n of [0, 1.5, -1, 2 ** 33, '1', NaN]) t.throws(() => c.namespace(n as number), BAD, `namespace(${String(n)})`);
  for (const o of [{ size: 1.5 }, { size: 1 }, { size: 2 ** 40 }, { size: '16' }, null, { depth: 4 }]) await t.rejects(c.createQueuePair(o as never), BAD, `createQueuePair(${JSON.stringify(o)})`);
  for (const [cns, nsid] of [[1.5, 0], [-1, 0], [256, 0], [0, 2 ** 33]]) await t.rejects(c.identify(cns, nsid), BAD, `identify(${cns}, ${nsid})`);
  t.equal(c.namespace(1).nsid, 1, 'a good nsid still works');
  const s = await c.status();
  t.equal(s.clients, 1, 'and the daemon serves it');
  await c.close();
});
