// A dead client costs only its queues: two clients write to one served controller, one of
// them (a child process, 8 writes in flight) is killed with SIGKILL at a random moment,
// round after round: odd rounds once it has IO in flight, even rounds at a random moment
// from just before it connects (mid-attach, while its pool is mapped or its queue made).
// Every acknowledged write of the survivor (this process) reads back, the daemon logs and
// counts the victim's queue pair and mappings as released, holds nothing of it afterwards,
// and stays alive serving the next victim. PHYR_SERVE_KILL_ROUNDS sets the rounds (default 10).
import t from 'tap';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { connect } from '../../index';
import { startDaemon, stopDaemon, tmpDir } from './fixtures/serve-helpers';

const ROUNDS = Number(process.env.PHYR_SERVE_KILL_ROUNDS ?? 10);
const VICTIM = path.join(__dirname, 'fixtures', 'serve-victim.js');
const dir = tmpDir();
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

t.test(`${ROUNDS} rounds of kill -9 of a client with IO in flight`, async (t) => {
  const d = await startDaemon(dir);
  t.teardown(() => stopDaemon(d));
  const survivor = await connect(d.socket, { hugepages: 'off' });
  const ns = survivor.namespace(1);
  const acked = new Map<number, number>(); // LBA -> byte value, for acknowledged writes only
  const buf = survivor.pool.alloc(4096);
  await ns.write(0, buf); // its namespace queue pair exists from here on
  const survivorMappings = (await survivor.status()).mappings;
  let seq = 0;
  let lost = 0;
  let released = 0;
  const early: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const victim = spawn(process.execPath, [VICTIM, d.socket, String(8192)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const said = (word: string) => new Promise<void>((resolve) => victim.stdout?.on('data', (b: Buffer) => ((out += b.toString()), out.includes(word) && resolve())));
    const ready = said('ready');
    const connecting = said('connecting');
    const gone = new Promise<void>((resolve) => victim.on('exit', () => resolve()));
    // The survivor writes all through the round: before, while and after the victim dies.
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const lba = (seq % 512) * 8;
        const value = (seq * 13 + round) & 0xff;
        seq++;
        buf.bytes.fill(value);
        await ns.write(lba, buf);
        acked.set(lba, value);
      }
    })();
    const inFlight = round % 2 === 1;
    // Odd rounds: IO in flight. Even rounds: from just before connect(), through attach, the
    // pool's first mapping and queue creation, to the first writes.
    await (inFlight ? ready : connecting);
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * (inFlight ? 150 : 80))));
    victim.kill('SIGKILL');
    await gone;
    if (!inFlight) early.push(victim.pid as number);
    if (inFlight) {
      const line = await d.waitFor(new RegExp(`pid ${victim.pid}, disconnected\\): released (\\d+) queue pairs, (\\d+) mappings`));
      const [, qps, maps] = /released (\d+) queue pairs, (\d+) mappings/.exec(line) as RegExpExecArray;
      t.equal(Number(qps), 1, `round ${round}: the victim's queue pair was deleted`);
      t.ok(Number(maps) >= 1, `round ${round}: its ${maps} mappings were removed`);
      released++;
    }
    // Whatever moment it died at, the daemon ends up holding nothing of it.
    let s = await survivor.status();
    for (let i = 0; i < 200 && (s.clients !== 1 || s.queuePairs !== 1); i++) {
      await new Promise((r) => setTimeout(r, 25));
      s = await survivor.status();
    }
    t.same([s.clients, s.queuePairs, s.mappings], [1, 1, survivorMappings], `round ${round}: only the survivor's queue pair and mappings are left`);
    writing = false;
    await writer;
    const check = survivor.pool.alloc(4096);
    for (const [lba, value] of acked) {
      await ns.read(lba, check);
      if (!check.bytes.every((b) => b === value)) lost++;
    }
    check.free();
  }
  t.equal(lost, 0, `every one of the survivor's acknowledged writes read back (${acked.size} LBAs, ${seq} writes)`);
  const attachedEarly = early.filter((pid) => d.lines.some((l) => l.includes(`attached (pid ${pid},`))).length;
  t.comment(`victims killed at any moment: ${early.length}, of which ${attachedEarly} had attached`);
  const status = await survivor.status();
  t.ok(status.releasedQueuePairs >= released, `the daemon counted ${status.releasedQueuePairs} released queue pairs (${released} of victims with IO in flight)`);
  t.ok(status.releasedMappings >= released, `and ${status.releasedMappings} mappings`);
  t.equal(status.clients, 1, 'only the survivor is left');
  t.equal(d.child.exitCode, null, 'the daemon is alive');
  await survivor.close();
  t.equal(await stopDaemon(d), 0, 'and shuts down cleanly');
});
