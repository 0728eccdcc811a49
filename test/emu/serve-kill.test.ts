// A dead client costs nothing but its queues (docs/SERVE.md): three clients (child
// processes) each write their own LBA range on one served embedded controller and read
// every acknowledged write back; round after round one of them, at random, is killed with
// SIGKILL at a random moment — with IO in flight, between two commands, or mid-attach (from
// just before connect(), through attach, the pool's first mapping and queue creation) — and
// a fresh one takes its place once the daemon released it. Asserted: the daemon never
// crashes, no survivor loses an acknowledged write (each verifies its own and reads its
// whole range back at the end), and the victim's queues and IOMMU mappings are released —
// counted through the status reply (its perClient row gone, the controller's IOMMU mapping
// count back to the daemon's own plus the live clients', every queue id free again).
// PHYR_SERVE_KILL_ROUNDS sets the rounds (default 50).
import t from 'tap';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { connect, type ServeStatus } from '../../index';
import { startDaemon, stopDaemon, tmpDir } from './fixtures/serve-helpers';

const ROUNDS = Number(process.env.PHYR_SERVE_KILL_ROUNDS ?? 50);
const CLIENTS = 3;
const RANGE = 256; // 4 KiB blocks of 8 LBAs each client owns
const VERIFIER = path.join(__dirname, 'fixtures', 'serve-verifier.js');
const MODES = ['flight', 'between', 'attach'] as const;
type Mode = (typeof MODES)[number];
const dir = tmpDir();
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Verifier {
  child: ChildProcess;
  mode: 'flight' | 'between';
  out: string;
  said(word: string): Promise<void>;
  gone: Promise<number | null>;
}

function spawnVerifier(socket: string, slot: number, mode: 'flight' | 'between'): Verifier {
  const child = spawn(process.execPath, [VERIFIER, socket, String(slot * RANGE * 8), String(RANGE), mode], { stdio: ['pipe', 'pipe', 'inherit'] });
  const v: Verifier = {
    child,
    mode,
    out: '',
    said: (word) =>
      new Promise<void>((resolve) => {
        if (v.out.includes(`${word}\n`)) return resolve();
        child.stdout?.on('data', () => v.out.includes(`${word}\n`) && resolve());
      }),
    gone: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
  };
  child.stdout?.on('data', (b: Buffer) => (v.out += b.toString()));
  return v;
}

t.test(`${ROUNDS} rounds of kill -9 of one of ${CLIENTS} verifying clients`, async (t) => {
  const started = Date.now();
  const d = await startDaemon(dir);
  t.teardown(() => stopDaemon(d));
  const observer = await connect(d.socket, { hugepages: 'off' });
  const first = await observer.status();
  // What the daemon maps for itself (its pool: admin queue, identify buffer, its own IO queue).
  const ownMappings = first.iommuMappings - first.mappings;
  const allQueues = first.freeQueuePairs + first.queuePairs;
  t.ok(ownMappings >= 1, `the daemon's own IOMMU mappings: ${ownMappings}`);
  const mode = (i: number): 'flight' | 'between' => (i % 2 === 0 ? 'flight' : 'between');
  const slots = Array.from({ length: CLIENTS }, (_, i) => spawnVerifier(d.socket, i, mode(i)));
  await Promise.all(slots.map((v) => v.said('ready')));
  const killedAt: Record<Mode, number> = { flight: 0, between: 0, attach: 0 };
  let attachedWhenKilled = 0;
  let queuesReleasedInFlight = 0;
  const balanced = (s: ServeStatus) => s.iommuMappings === ownMappings + s.perClient.reduce((a, r) => a + r.mappings, 0) && s.freeQueuePairs + s.queuePairs === allQueues;
  for (let round = 1; round <= ROUNDS; round++) {
    const how = MODES[round % MODES.length];
    // Slot 1 runs one command at a time (the between-commands victim); 0 and 2 keep IO in flight.
    const slot = how === 'between' ? 1 : how === 'flight' ? (Math.random() < 0.5 ? 0 : 2) : Math.floor(Math.random() * CLIENTS);
    let v = slots[slot];
    if (how === 'attach') {
      // Replace the slot's client by hand and kill the new one while it attaches.
      v.child.stdin?.end();
      const code = await v.gone;
      t.equal(code, 0, `round ${round}: client ${slot} stopped cleanly before its replacement`);
      t.notOk(/LOST/.test(v.out), `round ${round}: it lost no acknowledged write (${/done .*/.exec(v.out)?.[0] ?? 'no summary'})`);
      v = spawnVerifier(d.socket, slot, mode(slot));
      await v.said('connecting');
      await sleep(Math.floor(Math.random() * 60));
    } else {
      if (v.mode === 'flight') {
        await v.said('ready');
        await sleep(Math.floor(Math.random() * 40));
      } else {
        await v.said('ready');
        const k = v.out.split('idle\n').length - 1;
        const wanted = k + 1 + Math.floor(Math.random() * 4);
        await new Promise<void>((resolve) => {
          const check = () => v.out.split('idle\n').length - 1 >= wanted && resolve();
          check();
          v.child.stdout?.on('data', check);
        });
      }
    }
    const kind: Mode = how === 'attach' ? 'attach' : v.mode;
    const pid = v.child.pid as number;
    v.child.kill('SIGKILL');
    await v.gone;
    killedAt[kind]++;
    if (v.out.includes('attached\n') && kind === 'attach') attachedWhenKilled++;
    // The daemon holds nothing of it afterwards (its hang-up released everything).
    let s = await observer.status();
    for (let i = 0; i < 400 && (s.perClient.some((r) => r.pid === pid) || !balanced(s)); i++) {
      await sleep(10);
      s = await observer.status();
    }
    t.notOk(s.perClient.some((r) => r.pid === pid), `round ${round} (${kind}): the victim's perClient row is gone`);
    t.ok(balanced(s), `round ${round}: IOMMU mappings ${s.iommuMappings} = daemon's ${ownMappings} + live clients'; queue ids ${s.freeQueuePairs} free + ${s.queuePairs} held = ${allQueues}`);
    if (kind !== 'attach') {
      const line = await d.waitFor(new RegExp(`pid ${pid}, disconnected\\): released (\\d+) queue pairs, (\\d+) mappings`));
      if (Number(/released (\d+) queue pairs/.exec(line)?.[1]) >= 1) queuesReleasedInFlight++;
    }
    t.equal(d.child.exitCode, null, `round ${round}: the daemon is alive`);
    slots[slot] = spawnVerifier(d.socket, slot, mode(slot));
  }
  t.equal(queuesReleasedInFlight, killedAt.flight + killedAt.between, 'every victim killed after its first write had its queue pair deleted');
  // The survivors: stop, read back their whole history, and report.
  let acked = 0;
  let checked = 0;
  for (const [i, v] of slots.entries()) {
    await v.said('ready');
    v.child.stdin?.end();
    t.equal(await v.gone, 0, `client ${i} stopped cleanly`);
    const m = /done acked=(\d+) checked=(\d+) lost=(\d+)/.exec(v.out);
    t.ok(m, `client ${i} reported (${m?.[0]})`);
    t.equal(Number(m?.[3]), 0, `client ${i} lost no acknowledged write`);
    acked += Number(m?.[1]);
    checked += Number(m?.[2]);
  }
  const s = await observer.status();
  t.comment(`kills: ${killedAt.flight} with IO in flight, ${killedAt.between} between commands, ${killedAt.attach} mid-attach (${attachedWhenKilled} of those had attached); survivors read back ${checked} writes over ${acked} LBAs; daemon released ${s.releasedQueuePairs} queue pairs, ${s.releasedMappings} mappings; ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.ok(s.releasedQueuePairs >= queuesReleasedInFlight, `the daemon counted ${s.releasedQueuePairs} released queue pairs`);
  t.ok(s.releasedMappings >= queuesReleasedInFlight, `and ${s.releasedMappings} released mappings`);
  t.same([s.clients, s.queuePairs, s.iommuMappings - s.mappings], [1, 0, ownMappings], 'only the observer is left, holding nothing; the IOMMU holds only the daemon\'s own');
  t.equal(d.child.exitCode, null, 'the daemon is alive');
  await observer.close();
  t.equal(await stopDaemon(d), 0, 'and shuts down cleanly');
});
