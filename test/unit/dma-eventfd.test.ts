// eventfds: signals reach the watcher through libuv with the counter value, close stops
// watching, and every bad argument (wrong type, not an eventfd, watched, closed) is a
// typed error rather than a crash or a closed stranger descriptor.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as path from 'path';
import { closeFd, createEventfd, EventfdError, signalEventfd, watchEventfd } from '../../lib/eventfd';

const nextSignal = (fd: number): Promise<number> =>
  new Promise((resolve) => {
    const w = watchEventfd(fd, (count) => {
      w.close();
      resolve(count);
    });
  });

t.test('a watcher gets the counter: signals before a read add up', async (t) => {
  const fd = createEventfd();
  t.ok(Number.isInteger(fd) && fd > 2);
  const counts: number[] = [];
  let wake: () => void = () => {};
  const w = watchEventfd(fd, (n) => {
    counts.push(n);
    wake();
  });
  t.equal(w.fd, fd);
  t.equal(w.closed, false);
  signalEventfd(fd);
  signalEventfd(fd, 2);
  await new Promise<void>((r) => (wake = r));
  t.same(counts, [3], 'one callback with the sum of both signals');
  signalEventfd(fd, 5);
  await new Promise<void>((r) => (wake = r));
  t.same(counts, [3, 5], 'the read reset the counter');
  w.close();
  w.close();
  t.equal(w.closed, true);
  closeFd(fd);
});

t.test('close stops watching: a later watcher gets what came after', async (t) => {
  const fd = createEventfd();
  const first = watchEventfd(fd, () => t.fail('closed watcher must not fire'));
  first.close();
  signalEventfd(fd, 7);
  await new Promise((r) => setImmediate(r));
  t.equal(await nextSignal(fd), 7, 'the counter was left for the next reader');
  closeFd(fd);
});

t.test('bad arguments are typed errors', async (t) => {
  const fd = createEventfd();
  const w = watchEventfd(fd, () => {});
  t.throws(() => closeFd(fd), { code: 'PHYR_EVENTFD_WATCHED', message: /close its watcher first/ });
  t.throws(() => watchEventfd(fd, () => {}), { name: 'EventfdError', message: /already watched/ });
  w.close();
  t.throws(() => closeFd(1), { code: 'PHYR_NOT_EVENTFD', message: /fd 1 is not an open eventfd/ }, 'stdout is never closed');
  t.throws(() => closeFd(-1), EventfdError);
  t.throws(() => closeFd(1.5), /fd must be an integer from 0 to 2147483647, got 1\.5/);
  t.throws(() => closeFd('3' as unknown as number), /fd must be a number/);
  t.throws(() => signalEventfd(fd, 0), /signal value must be an integer from 1 to 9007199254740991, got 0/);
  t.throws(() => signalEventfd(fd, -1), EventfdError);
  t.throws(() => signalEventfd(fd, 2 ** 53), EventfdError);
  t.throws(() => signalEventfd(fd, 'x' as unknown as number), /must be a number/);
  t.throws(() => watchEventfd(fd, 'cb' as unknown as () => void), /onSignal must be a function/);
  t.throws(() => watchEventfd(2 ** 40, () => {}), EventfdError);
  closeFd(fd);
  t.throws(() => closeFd(fd), { code: 'PHYR_NOT_EVENTFD' }, 'double close');
  t.throws(() => signalEventfd(fd), { code: 'PHYR_NOT_EVENTFD' }, 'use after close');
  t.throws(() => watchEventfd(fd, () => {}), { code: 'PHYR_NOT_EVENTFD' });
});

// Process-level behaviour needs a process of its own.
const addon = path.resolve(__dirname, '../../build/Release/phyr.node');
const child = (body: string) =>
  spawnSync(process.execPath, ['-e', `const e = require(${JSON.stringify(addon)}).eventfd; ${body}`], { encoding: 'utf8', timeout: 10000 });

t.test('a watch keeps the process alive until closed; unref lets it exit', async (t) => {
  const r = child(`const fd = e.createEventfd(); const w = new e.Watcher(fd, (n) => { console.log('got', n); w.close(); });
    setTimeout(() => e.signal(fd, 4), 20);`);
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /got 4/, 'the process waited for the signal');
  const u = child(`const fd = e.createEventfd(); new e.Watcher(fd, () => {}).unref(); console.log('done')`);
  t.equal(u.status, 0);
  t.equal(u.signal, null, 'exited on its own (not killed by the timeout)');
});

t.test('an idle watch uses no CPU (it waits in epoll, not in a loop)', async (t) => {
  const r = child(`const fd = e.createEventfd(); const c0 = process.cpuUsage();
    const w = new e.Watcher(fd, (n) => { const c = process.cpuUsage(c0); console.log(JSON.stringify({ n, cpuUs: c.user + c.system })); w.close(); });
    setTimeout(() => e.signal(fd), 400);`);
  t.equal(r.status, 0, r.stderr);
  const { n, cpuUs } = JSON.parse(r.stdout) as { n: number; cpuUs: number };
  t.equal(n, 1);
  t.ok(cpuUs < 150_000, `CPU over a 400 ms idle wait: ${cpuUs} us (a polling loop would use ~400000)`);
});

t.test('a throwing callback is an uncaught exception, not a crash', async (t) => {
  const r = child(`const fd = e.createEventfd(); new e.Watcher(fd, () => { throw new Error('callback bang'); }); e.signal(fd);
    process.on('uncaughtException', (err) => { console.log('caught', err.message); process.exit(3); });`);
  t.equal(r.status, 3, r.stderr);
  t.match(r.stdout, /caught callback bang/);
});
