// phyr serve over VFIO on QEMU's NVMe (issue 16): the daemon owns the vfio-bound target,
// clients map only its doorbell page (the device fd comes over SCM_RIGHTS) and hand it
// their memfd memory, which the daemon maps with VFIO_IOMMU_MAP_DMA. Two Node clients do
// verified IO at once; then, for about 30 s, round after round, a client process is killed
// with SIGKILL at a random moment (with writes in flight, or anywhere from just before it
// connects) beside a survivor that writes all through. 0 daemon crashes, 0 lost
// acknowledged writes of the survivor, the victims' queue pairs and mappings released
// (counted, printed as notes). Between the two, real fio through phyr's engine
// (bench/fio-engine/) writes and verifies beside a Node client.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { connect, type ServedController } from '../../../serve';
import { releaseShared, targetFn } from '../fixture';
import { atEnd, note, sleep, test } from '../harness';
import { TARGET } from '../topology';

const PHYR = path.resolve(__dirname, '..', '..', '..', 'tools', 'phyr.js');
const CLIENT = path.resolve(__dirname, '..', 'serve-client.js');
const KILL_SECONDS = Number(process.env.PHYR_VM_SERVE_KILL_SECONDS ?? 30);

interface Daemon {
  child: ChildProcess;
  socket: string;
  lines: string[];
  waitFor(re: RegExp, ms?: number): Promise<string>;
  exited: Promise<number | null>;
}

function startDaemon(target: string): Daemon {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-serve-'));
  const socket = path.join(dir, 'phyr.sock');
  const child = spawn(process.execPath, [PHYR, 'serve', target, '--socket', socket], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let rest = '';
  const onData = (b: Buffer): void => {
    rest += b.toString();
    let i;
    while ((i = rest.indexOf('\n')) >= 0) {
      lines.push(rest.slice(0, i));
      rest = rest.slice(i + 1);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = async (re: RegExp, ms = 60_000): Promise<string> => {
    const end = Date.now() + ms;
    for (;;) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return hit;
      if (child.exitCode !== null) throw new Error(`the daemon exited (${child.exitCode}) before logging ${re}; log:\n${lines.join('\n')}`);
      if (Date.now() > end) throw new Error(`no daemon log line ${re} within ${ms} ms; log:\n${lines.join('\n')}`);
      await sleep(20);
    }
  };
  atEnd(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { child, socket, lines, waitFor, exited };
}

/** A client process; `said(word)` resolves once it printed that word. */
function spawnClient(socket: string, firstLba: number, mode: string[]): { child: ChildProcess; said: (w: string) => Promise<void>; gone: Promise<number | null>; out: () => string } {
  const child = spawn(process.execPath, [CLIENT, socket, String(firstLba), ...mode], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const listeners: Array<() => void> = [];
  const onData = (b: Buffer): void => {
    out += b.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const gone = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const said = (w: string) =>
    new Promise<void>((resolve) => {
      if (out.includes(w)) return resolve();
      listeners.push(() => out.includes(w) && resolve());
    });
  return { child, said, gone, out: () => out };
}

/** `p`, or a failure naming `what` after `ms` (a hang must fail this case, not the tier). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
const IO_MS = 20_000;

let daemon: Daemon | undefined;
let survivor: ServedController | undefined;

test('serve: phyr serve on a vfio-bound controller; a client maps only the doorbell page and does IO', async () => {
  releaseShared(); // the daemon opens the target in its own process (one owner per VFIO group)
  daemon = startDaemon(TARGET);
  const start = await daemon.waitFor(/^phyr serve: .* on /);
  assert.match(start, /doorbells by vfio/, start);
  survivor = await within(connect(daemon.socket), 60_000, 'connect');
  console.log('  serve: connected');
  assert.equal(survivor.info.kind, 'vfio');
  assert.equal(survivor.info.doorbells.via, 'vfio');
  assert.equal(survivor.info.doorbells.base, 0, 'the mapping starts at the first doorbell');
  assert.equal(survivor.info.doorbells.length % 4096, 0);
  const ns = survivor.namespace(1);
  const buf = survivor.pool.alloc(16384);
  for (let i = 0; i < buf.size; i++) buf.bytes[i] = (i * 11 + 5) & 0xff;
  await within(ns.write(32, buf), IO_MS, 'the first write');
  console.log('  serve: first write done');
  const back = survivor.pool.alloc(16384);
  await within(ns.read(32, back), IO_MS, 'the first read');
  assert.deepEqual(Buffer.from(back.bytes), Buffer.from(buf.bytes), 'what was written reads back through the daemon-mapped memory');
  await within(ns.flush(), IO_MS, 'flush');
  const s = await survivor.status();
  assert.equal(s.clients, 1);
  assert.equal(s.queuePairs, 1);
  assert.ok(s.mappings >= 1, `${s.mappings} mappings`);
  note(`serve over VFIO: pool ${survivor.pool.usingHugepages ? 'hugetlb' : 'plain-page'} memfds, doorbell window ${survivor.info.doorbells.length} bytes at device-fd offset 0x${survivor.info.doorbells.offset.toString(16)}, client window 0x${survivor.info.iova.start.toString(16)}..0x${survivor.info.iova.end.toString(16)}`);
  back.free();
  buf.free();
});

test('serve: two clients do verified IO at once on the served VFIO controller', async () => {
  assert.ok(daemon && survivor, 'the daemon runs (previous case)');
  const ns = survivor.namespace(1);
  const other = spawnClient(daemon.socket, 8192, ['verify', '400']);
  const buf = survivor.pool.alloc(4096);
  const back = survivor.pool.alloc(4096);
  let mine = 0;
  let otherDone = false;
  void other.gone.then(() => (otherDone = true));
  await within(other.said('ready'), 60_000, `the other client's first write (${other.out()})`);
  while (!otherDone || mine < 50) {
    const lba = 4096 + (mine % 128) * 8;
    buf.bytes.fill((mine * 7 + 3) & 0xff);
    await within(ns.write(lba, buf), IO_MS, `survivor write ${mine}`);
    await within(ns.read(lba, back), IO_MS, `survivor read ${mine}`);
    assert.deepEqual(Buffer.from(back.bytes), Buffer.from(buf.bytes), `survivor LBA ${lba}`);
    mine++;
  }
  assert.equal(await within(other.gone, 120_000, 'the other client to finish'), 0, `the other client exits 0: ${other.out()}`);
  assert.match(other.out(), /verified 400/);
  note(`two clients at once: the other verified 400 write/read pairs, this one ${mine}`);
  buf.free();
  back.free();
});

test('serve: real fio through phyr\'s engine verifies IO beside a Node client on the served VFIO controller', async () => {
  assert.ok(daemon && survivor, 'the daemon runs (previous case)');
  const d = daemon;
  const engine = spawnSync(process.execPath, [PHYR, 'fio-engine'], { encoding: 'utf8' });
  assert.equal(engine.status, 0, `phyr fio-engine: ${engine.stderr}`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-vm-fio-')); // fio's verify state files
  atEnd(() => fs.rmSync(work, { recursive: true, force: true }));
  const other = spawnClient(d.socket, 8192, ['verify', '200']);
  // 2 MiB of 4 KiB random writes at iodepth 8, then fio's crc32c read-back of every block,
  // on an LBA range of its own (16 MiB on), while the Node client verifies its own range.
  const fio = spawn('fio', [`--ioengine=external:${engine.stdout.trim()}`, `--phyr_socket=${d.socket}`, '--thread=1', '--filename=phyr', '--name=vfio', '--rw=randwrite', '--bs=4k', '--iodepth=8', '--offset=16M', '--size=2M', '--verify=crc32c', '--output-format=json'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  fio.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  fio.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const code = await within(new Promise<number | null>((r) => fio.on('exit', (c) => r(c))), 300_000, 'fio through the engine');
  assert.equal(code, 0, `fio exits 0 (stderr: ${err.trim()})`);
  const job = (JSON.parse(out.slice(out.indexOf('{'))) as { jobs: Array<{ error: number; write: { total_ios: number; iops: number }; read: { total_ios: number } }> }).jobs[0];
  assert.equal(job.error, 0, 'fio reports no error');
  assert.equal(job.write.total_ios, 512, '512 writes of 4 KiB');
  assert.equal(job.read.total_ios, 512, 'and every block read back and checked by fio');
  assert.equal(await within(other.gone, 300_000, 'the Node client to finish'), 0, `the Node client exits 0: ${other.out()}`);
  assert.match(other.out(), /verified 200/);
  let s = await survivor.status();
  for (let i = 0; i < 200 && s.clients !== 1; i++) (await sleep(25), (s = await survivor.status()));
  assert.equal(s.clients, 1, 'fio\'s clients and the Node client detached: only the survivor is left');
  note(`fio through the engine over VFIO: 512 writes at ${Math.round(job.write.iops)} IOPS and 512 verified reads, error 0, beside a Node client's 200 verified write/read pairs`);
});

test(`serve: ~${KILL_SECONDS} s of kill -9 of a client at a random moment; the survivor loses nothing and the daemon releases the victim's queues and mappings`, async () => {
  assert.ok(daemon && survivor, 'the daemon runs (previous case)');
  const d = daemon;
  const ns = survivor.namespace(1);
  const buf = survivor.pool.alloc(4096);
  const baseline = await survivor.status();
  const acked = new Map<number, number>();
  let seq = 0;
  let lost = 0;
  let round = 0;
  let withIo = 0;
  const earlyPids: number[] = [];
  const released = { queuePairs: 0, mappings: 0 };
  const t0 = Date.now();
  // Each victim's Node start-up (seconds under TCG) overlaps the round before it: it waits,
  // started, for the line that lets it connect.
  const victimFor = (r: number) => spawnClient(d.socket, 8192 + (r % 4) * 2048, ['forever', '0', 'wait']);
  let next = victimFor(1);
  while (Date.now() - t0 < KILL_SECONDS * 1000 || round < 2) {
    round++;
    const victim = next;
    await within(victim.said('started'), 60_000, `round ${round}: the victim to start (${victim.out()})`);
    next = victimFor(round + 1);
    victim.child.stdin?.write('go\n');
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const lba = (seq % 256) * 8;
        const value = (seq * 13 + round) & 0xff;
        seq++;
        buf.bytes.fill(value);
        await within(ns.write(lba, buf), IO_MS, `survivor write ${seq}`);
        acked.set(lba, value);
      }
    })();
    const inFlight = round % 2 === 1;
    await within(inFlight ? victim.said('ready') : victim.said('connecting'), 60_000, `round ${round}: the victim to start (${victim.out()})`);
    // Even rounds: 0..1.2 s from connect() on, through attach, the first mappings and queue creation.
    await sleep(Math.floor(Math.random() * (inFlight ? 300 : 1200)));
    victim.child.kill('SIGKILL');
    await victim.gone;
    const pid = victim.child.pid as number;
    if (inFlight) {
      withIo++;
      const line = await d.waitFor(new RegExp(`pid ${pid}, disconnected\\): released (\\d+) queue pairs, (\\d+) mappings`));
      const [, qps, maps] = /released (\d+) queue pairs, (\d+) mappings/.exec(line) as RegExpExecArray;
      assert.equal(Number(qps), 1, `round ${round}: the victim's queue pair was deleted (${line})`);
      assert.ok(Number(maps) >= 1, `round ${round}: its mappings were unmapped (${line})`);
      released.queuePairs += Number(qps);
      released.mappings += Number(maps);
    } else earlyPids.push(pid);
    // Whatever moment it died at, the daemon ends up holding nothing of it.
    let s = await survivor.status();
    for (let i = 0; i < 400 && (s.clients !== 1 || s.queuePairs !== baseline.queuePairs || s.mappings !== baseline.mappings); i++) {
      await sleep(25);
      s = await survivor.status();
    }
    assert.deepEqual([s.clients, s.queuePairs, s.mappings], [1, baseline.queuePairs, baseline.mappings], `round ${round}: only the survivor's queue pair and mappings are left`);
    writing = false;
    await within(writer, IO_MS, `round ${round}: the survivor's writer`);
    const check = survivor.pool.alloc(4096);
    for (const [lba, value] of acked) {
      await within(ns.read(lba, check), IO_MS, `read back LBA ${lba}`);
      if (!check.bytes.every((b) => b === value)) lost++;
    }
    check.free();
    assert.equal(d.child.exitCode, null, `round ${round}: the daemon is alive`);
  }
  next.child.kill('SIGKILL'); // started, never let connect
  await next.gone;
  const status = await survivor.status();
  const attachedEarly = earlyPids.filter((pid) => d.lines.some((l) => l.includes(`attached (pid ${pid},`))).length;
  note(
    `kill -9 over VFIO: ${round} rounds in ${((Date.now() - t0) / 1000).toFixed(1)} s (${withIo} with writes in flight, ${earlyPids.length} at a random moment from connect on, ${attachedEarly} of them after attaching), ` +
      `0 daemon crashes; survivor: ${seq} writes, ${acked.size} LBAs read back, ${lost} lost; ` +
      `released from victims with IO in flight: ${released.queuePairs} queue pairs, ${released.mappings} mappings; ` +
      `daemon totals: ${status.attached} attached, ${status.detached} detached, ${status.releasedQueuePairs} queue pairs and ${status.releasedMappings} mappings released`,
  );
  assert.equal(lost, 0, `every acknowledged write of the survivor reads back (${acked.size} LBAs, ${seq} writes)`);
  assert.ok(status.releasedQueuePairs >= released.queuePairs);
  assert.ok(status.releasedMappings >= released.mappings);
  assert.equal(status.clients, 1, 'only the survivor is left');
  buf.free();
});

test('serve: SIGTERM stops the VFIO daemon cleanly and the survivor sees ServeClosedError', async () => {
  assert.ok(daemon && survivor, 'the daemon runs (previous case)');
  const buf = survivor.pool.alloc(4096);
  daemon.child.kill('SIGTERM');
  assert.equal(await within(daemon.exited, 30_000, 'the daemon to exit'), 0, `the daemon exits 0; log:\n${daemon.lines.slice(-5).join('\n')}`);
  await assert.rejects(survivor.namespace(1).read(0, buf), { code: 'PHYR_SERVE_CLOSED' });
  await survivor.close();
  assert.ok(daemon.lines.some((l) => /stopped \(SIGTERM received\)/.test(l)), 'the stop is logged');
  // The client's close() dropped its doorbell mapping, the last hold on the device: the
  // target opens again (a client that still mapped it would keep the VFIO group busy).
  const again = targetFn();
  assert.ok(again.barSize(0) > 0);
  releaseShared();
});
