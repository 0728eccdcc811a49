// One served controller, every kind of client at once, and a client killed at a random
// moment round after round (issue 16's acceptance run): two Node clients in their own
// processes (serve-survivor.js) and real fio through phyr's engine (bench/fio-engine/) do
// verified IO the whole time, while each round starts a victim — a Node client or a fio
// job through the engine — and kills it with SIGKILL: a Node victim just after it starts to
// connect (mid-attach) or with IO in flight, a fio job at a random moment from its start or
// with IO in flight.
// Afterwards: the daemon never died, the survivors lost no acknowledged write (the Node
// clients read every block back, fio's verify_backlog checked its own), the daemon logged
// every victim that attached as detached with what it released, its counters add up to
// those lines, and it holds nothing of any victim. PHYR_SERVE_MIXED_ROUNDS sets the rounds
// (default 50).
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { connect } from '../../index';
import { CLI, startDaemon, stopDaemon, tmpDir } from './fixtures/serve-helpers';

const ROUNDS = Number(process.env.PHYR_SERVE_MIXED_ROUNDS ?? 50);
const VERIFIER = path.join(__dirname, 'fixtures', 'serve-survivor.js');
const VICTIM = path.join(__dirname, 'fixtures', 'serve-victim.js');
const v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
if (v.error || v.status !== 0) throw new Error('fio is not installed: this test runs real fio through the engine (apt-get install fio)');
const engine = spawnSync(process.execPath, [CLI, 'fio-engine'], { encoding: 'utf8' }).stdout.trim();
const dir = tmpDir();
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

// Regions, in 512-byte LBAs of the 64 MiB namespace: verifiers at 0 and 4 MiB, Node
// victims at 16 MiB, fio's survivor at 32 MiB, fio's victims at 48 MiB.
const MIB = 2048;
const fioArgs = (name: string, socket: string, offsetMiB: number, extra: string[]) => [
  `--ioengine=external:${engine}`, '--thread=1', '--filename=phyr', `--phyr_socket=${socket}`, `--name=${name}`,
  '--rw=randwrite', '--bs=4k', '--iodepth=8', '--size=8M', `--offset=${offsetMiB}M`, ...extra,
];

function lines(child: ChildProcess): { all: () => string; next: (re: RegExp) => Promise<string> } {
  let out = '';
  const waiters: Array<{ re: RegExp; resolve: (s: string) => void }> = [];
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
    for (const w of [...waiters]) {
      const m = w.re.exec(out);
      if (m) (waiters.splice(waiters.indexOf(w), 1), w.resolve(m[0]));
    }
  });
  return {
    all: () => out,
    next: (re) => new Promise((resolve) => {
      const m = re.exec(out);
      if (m) resolve(m[0]);
      else waiters.push({ re, resolve });
    }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test(`two Node clients and fio verify on one served controller through ${ROUNDS} kill -9 rounds`, async (t) => {
  const d = await startDaemon(dir, 'emu:backend=ram,size=64M');
  t.teardown(() => stopDaemon(d));
  const observer = await connect(d.socket, { hugepages: 'off' });
  const own = await observer.status(); // the observer alone: what it holds itself
  const verifiers = [0, 4].map((mib) => spawn(process.execPath, [VERIFIER, d.socket, String(mib * MIB), '256'], { stdio: ['pipe', 'pipe', 'inherit'] }));
  t.teardown(() => verifiers.forEach((p) => p.exitCode === null && p.kill('SIGKILL')));
  const vOut = verifiers.map(lines);
  for (const o of vOut) for (let lane = 0; lane < 4; lane++) await o.next(new RegExp(`ready ${lane}\\n`));
  // fio's survivor: short time-based runs back to back, each checking what it wrote with
  // verify_backlog while it writes; every run must end with error 0.
  let fioRunning = true;
  const fioRuns: Array<{ status: number | null; error: number; writes: number; verified: number; stderr: string }> = [];
  const fioLoop = (async () => {
    while (fioRunning) {
      const f = spawn('fio', [...fioArgs('survivor', d.socket, 32, ['--time_based', '--runtime=2', '--verify=crc32c', '--verify_backlog=128', '--output-format=json'])], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      f.stdout.on('data', (b: Buffer) => (out += b.toString()));
      f.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const status = await new Promise<number | null>((r) => f.on('exit', (c) => r(c)));
      let job = { error: -1, write: { total_ios: 0 }, read: { total_ios: 0 } };
      try {
        job = (JSON.parse(out.slice(out.indexOf('{'))) as { jobs: Array<typeof job> }).jobs[0];
      } catch {
        // The run is recorded with error -1 and its stderr, and fails the assertions below.
      }
      fioRuns.push({ status, error: job.error, writes: job.write.total_ios, verified: job.read.total_ios, stderr: err.trim() });
    }
  })();

  const attachedOf = (pid: number) => d.lines.filter((l) => l.includes(`attached (pid ${pid},`)).length;
  const detachedOf = (pid: number) => d.lines.filter((l) => l.includes(`detached (pid ${pid},`));
  const kinds = { midAttach: 0, inFlight: 0, fioAnyTime: 0, fioInFlight: 0 };
  const victimPids: number[] = [];
  let fioKilledWithQueue = 0;
  let victimsAttached = 0;
  const before = await observer.status();
  for (let round = 1; round <= ROUNDS; round++) {
    const kind = (['midAttach', 'inFlight', 'fioAnyTime', 'fioInFlight'] as const)[round % 4];
    kinds[kind]++;
    let victim: ChildProcess;
    let delay: number;
    if (kind === 'fioAnyTime' || kind === 'fioInFlight') {
      victim = spawn('fio', fioArgs(`victim${round}`, d.socket, 48, ['--time_based', '--runtime=30']), { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'] });
      const pid = victim.pid as number;
      // In flight: once the job thread's own client has attached (fio's setup attaches and
      // detaches one first, to size the file), then 50-300 ms on, into its IO (on a loaded
      // machine its queue may not exist yet: what it held is read from the detach line).
      if (kind === 'fioInFlight') for (let i = 0; i < 400 && attachedOf(pid) < 2; i++) await sleep(10);
      delay = kind === 'fioInFlight' ? 50 + Math.floor(Math.random() * 250) : Math.floor(Math.random() * 600);
      await sleep(delay);
    } else {
      victim = spawn(process.execPath, [VICTIM, d.socket, String(16 * MIB)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const o = lines(victim);
      await o.next(kind === 'inFlight' ? /ready/ : /connecting/);
      delay = Math.floor(Math.random() * (kind === 'inFlight' ? 150 : 80));
      await sleep(delay);
    }
    const gone = new Promise<void>((r) => (victim.exitCode !== null ? r() : victim.on('exit', () => r())));
    victim.kill('SIGKILL');
    await gone;
    const pid = victim.pid as number;
    victimPids.push(pid);
    // Whatever moment it died at, each attach it made ends in a logged detach. (A client
    // connected but killed before it asked to attach is logged detached without one.)
    for (let i = 0; i < 400 && detachedOf(pid).length < attachedOf(pid); i++) await sleep(25);
    const detached = detachedOf(pid);
    t.ok(detached.length >= attachedOf(pid), `round ${round} (${kind}, killed after ${delay} ms): its ${attachedOf(pid)} attaches were each detached`);
    if (attachedOf(pid) > 0) victimsAttached++;
    const heldQueue = detached.some((l) => /released 1 queue pairs, [1-9]\d* mappings/.test(l));
    if (kind === 'inFlight') t.ok(heldQueue, `round ${round}: the victim with IO in flight gave back its queue pair and mappings`);
    if (kind === 'fioInFlight' && heldQueue) fioKilledWithQueue++;
    t.equal(d.child.exitCode, null, `round ${round}: the daemon is alive`);
  }
  fioRunning = false;
  await fioLoop;
  for (const p of verifiers) p.stdin?.end('stop\n');
  const reports = await Promise.all(vOut.map((o) => o.next(/\{.*\}\n/)));
  await Promise.all(verifiers.map((p) => new Promise<void>((r) => (p.exitCode !== null ? r() : p.on('exit', () => r())))));
  for (const [i, line] of reports.entries()) {
    const r = JSON.parse(line) as { writes: number; blocks: number; readChecks: number; lostDuring: number; lost: number };
    t.ok(r.writes > 0 && r.blocks > 0, `Node client ${i + 1} did ${r.writes} writes over ${r.blocks} blocks and ${r.readChecks} read-backs`);
    t.equal(r.lostDuring, 0, `Node client ${i + 1}: every read-back during the rounds matched the acknowledged write`);
    t.equal(r.lost, 0, `Node client ${i + 1}: every acknowledged block reads back at the end`);
  }
  t.ok(fioRuns.length >= 1, `fio's survivor ran ${fioRuns.length} times during the rounds`);
  for (const [i, r] of fioRuns.entries()) {
    t.ok(r.status === 0 && r.error === 0 && r.writes > 0 && r.verified > 0, `fio run ${i + 1}: exit ${r.status}, error ${r.error}, ${r.writes} writes, ${r.verified} verified${r.stderr ? ` (stderr: ${r.stderr})` : ''}`);
  }
  // Every release the daemon counts has its log line (all clients: the survivors' clean
  // closes say 0); the counters settle once the last release's admin commands are done.
  const releasedIn = (ls: string[]) =>
    ls.reduce((sum, l) => {
      const m = /detached \(pid \d+, [^)]*\): released (\d+) queue pairs, (\d+) mappings/.exec(l);
      return m ? [sum[0] + Number(m[1]), sum[1] + Number(m[2])] : sum;
    }, [0, 0]);
  let after = await observer.status();
  for (let i = 0; i < 400; i++) {
    const [q, m] = releasedIn(d.lines);
    if (after.clients === 1 && after.releasedQueuePairs - before.releasedQueuePairs === q && after.releasedMappings - before.releasedMappings === m) break;
    await sleep(25);
    after = await observer.status();
  }
  const [allQps, allMaps] = releasedIn(d.lines);
  const [releasedQps, releasedMaps] = releasedIn(victimPids.flatMap(detachedOf));
  t.equal(after.releasedQueuePairs - before.releasedQueuePairs, allQps, `the daemon's count of released queue pairs matches its detach lines (${allQps}, ${releasedQps} of them the victims')`);
  t.equal(after.releasedMappings - before.releasedMappings, allMaps, `and of released mappings (${allMaps}, ${releasedMaps} of them the victims')`);
  t.ok(fioKilledWithQueue >= Math.ceil(kinds.fioInFlight / 2), `${fioKilledWithQueue} of the ${kinds.fioInFlight} fio jobs killed in flight held a queue pair when they died`);
  t.equal(after.clients, 1, 'only the observer is left');
  t.same([after.queuePairs, after.mappings], [own.queuePairs, own.mappings], `the daemon holds only the observer's ${own.queuePairs} queue pairs and ${own.mappings} mappings`);
  t.comment(`victims: Node clients ${kinds.midAttach} mid-attach and ${kinds.inFlight} with IO in flight, fio jobs ${kinds.fioAnyTime} at any moment and ${kinds.fioInFlight} with IO in flight; ${victimsAttached} had attached; the victims gave back ${releasedQps} queue pairs and ${releasedMaps} mappings`);
  await observer.close();
  t.equal(await stopDaemon(d), 0, 'the daemon shuts down cleanly');
});
