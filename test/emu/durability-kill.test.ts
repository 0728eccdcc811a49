// kill -9 durability on the file backend: a writer child (plain node on the built
// library, test/helpers/durability-writer.js) writes self-describing blocks and reports
// every acknowledged write and every completed flush over a pipe; the parent kills it
// with SIGKILL at a random (seeded) moment, reopens the image and checks that
//   - every acknowledged write is present and untorn: each block holds the newest
//     acknowledged version of that LBA, or a later one that was in flight at the kill;
//   - everything acknowledged before the last completed flush is present.
// docs/EMULATOR.md: a completed write has been pwrite'n (it survives the process), a
// completed Flush has called fdatasync. Several rounds continue on one image.
//   PHYR_DURABILITY_SEED=N picks another run.
import t from 'tap';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as phyr from '../../index';
import { Rng, parseBlock } from '../helpers/block-header';

const ROOT = path.resolve(__dirname, '..', '..');
const LIB = path.join(ROOT, 'dist', 'index.js');
const WRITER = path.join(ROOT, 'test', 'helpers', 'durability-writer.js');
const SEED = Number(process.env.PHYR_DURABILITY_SEED ?? 0x5eed0011);
const ROUNDS = 8;
const SIZE = 4 * 2 ** 20;
const LBA = 512;
const BLOCKS = SIZE / LBA;
const SEQ_STRIDE = 1e9; // round r writes sequence numbers (r + 1) * 1e9 + 1 ...

interface RoundLog {
  acks: number;
  flushes: number;
  killedAfterMs: number;
  exit: string;
  stderr: string;
}

/** Runs one writer until SIGKILL; updates `acked` and `durable` (newest seq per LBA) as reports arrive. */
function runWriter(image: string, round: number, killAfterMs: number, acked: Float64Array, durable: Float64Array): Promise<RoundLog> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, LIB, image, String(SIZE), String((round + 1) * SEQ_STRIDE), String(SEED + round)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log: RoundLog = { acks: 0, flushes: 0, killedAfterMs: killAfterMs, exit: '', stderr: '' };
    const snapshots = new Map<number, Float64Array>();
    let pending = '';
    let killTimer: NodeJS.Timeout | undefined;
    // A writer that never gets ready must not hang the test.
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const onLine = (line: string): void => {
      const [k, a, b, c] = line.split(' ');
      if (k === 'R') killTimer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      else if (k === 'A') {
        const lba = Number(a);
        const seq = Number(c);
        for (let i = 0; i < Number(b); i++) acked[lba + i] = seq;
        log.acks++;
      } else if (k === 'f') snapshots.set(Number(a), Float64Array.from(acked));
      else if (k === 'F') {
        const snap = snapshots.get(Number(a));
        if (!snap) throw new Error(`flush ${a} completed but was never reported as submitted`);
        durable.set(snap);
        for (const n of [...snapshots.keys()]) if (n <= Number(a)) snapshots.delete(n);
        log.flushes++;
      }
    };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      pending += s;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        onLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => (log.stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      if (killTimer) clearTimeout(killTimer);
      // A partial last line is an unfinished report: the write it would name is unacknowledged.
      log.exit = signal ? `signal ${signal}` : `exit ${code}`;
      resolve(log);
    });
  });
}

/** Reads the whole namespace back through the driver and classifies every block. */
async function verify(image: string, acked: Float64Array, durable: Float64Array, maxSeq: number) {
  const ctrl = await phyr.open(`emu:backend=file:${image},size=${SIZE}`, { timeoutMs: 5000 });
  const found = { present: 0, lost: [] as string[], torn: [] as string[], stale: [] as string[], notDurable: [] as string[] };
  try {
    const ns = ctrl.namespace(1);
    const data = Buffer.alloc(SIZE);
    await ns.read(0, data);
    for (let lba = 0; lba < BLOCKS; lba++) {
      const want = acked[lba];
      const b = parseBlock(data.subarray(lba * LBA, (lba + 1) * LBA));
      if (b.state === 'torn') {
        found.torn.push(`LBA ${lba}: torn block (acknowledged seq ${want})`);
        continue;
      }
      if (b.state === 'empty') {
        if (want > 0) found.lost.push(`LBA ${lba}: acknowledged seq ${want} missing (block is empty)`);
        if (durable[lba] > 0) found.notDurable.push(`LBA ${lba}: flushed seq ${durable[lba]} missing`);
        continue;
      }
      if (b.lba !== lba) {
        found.torn.push(`LBA ${lba}: holds the block of LBA ${b.lba}`);
        continue;
      }
      if (b.seq > maxSeq) found.torn.push(`LBA ${lba}: seq ${b.seq} was never written`);
      if (b.seq < want) found.stale.push(`LBA ${lba}: holds seq ${b.seq}, acknowledged seq ${want}`);
      if (b.seq < durable[lba]) found.notDurable.push(`LBA ${lba}: holds seq ${b.seq}, flushed seq ${durable[lba]}`);
      if (want > 0 && b.seq >= want) found.present++;
    }
  } finally {
    await ctrl.close();
  }
  return found;
}

t.test('kill -9 during writes: every acknowledged write survives, untorn', async (t) => {
  t.ok(fs.existsSync(LIB), `the built library is needed: ${LIB} (run npm run build:ts)`);
  if (!fs.existsSync(LIB)) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-kill9-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const image = path.join(dir, 'image');
  const rng = new Rng(SEED);
  const acked = new Float64Array(BLOCKS);
  const durable = new Float64Array(BLOCKS);
  const t0 = Date.now();
  let totalAcks = 0;
  let totalFlushes = 0;
  t.comment(`seed ${SEED} (PHYR_DURABILITY_SEED)`);
  for (let round = 0; round < ROUNDS; round++) {
    const killAfter = 100 + rng.below(700);
    const log = await runWriter(image, round, killAfter, acked, durable);
    const why = log.exit === 'signal SIGKILL' ? '' : ` (stderr: ${log.stderr.slice(-800)})`;
    t.equal(log.exit, 'signal SIGKILL', `round ${round}: the writer ran until killed after ${killAfter} ms${why}`);
    t.ok(log.acks > 0, `round ${round}: ${log.acks} writes acknowledged before the kill`);
    totalAcks += log.acks;
    totalFlushes += log.flushes;
    const found = await verify(image, acked, durable, (round + 2) * SEQ_STRIDE);
    t.same(found.lost, [], `round ${round}: no acknowledged write lost`);
    t.same(found.stale, [], `round ${round}: no block older than its acknowledged write`);
    t.same(found.torn, [], `round ${round}: no torn block`);
    t.same(found.notDurable, [], `round ${round}: everything acknowledged before the last completed flush (${log.flushes} flushes) is present`);
  }
  const seconds = (Date.now() - t0) / 1000;
  // The checker itself: a block zeroed behind the driver's back is reported lost, a flipped
  // payload byte torn (so the rounds above could have failed).
  const victim = acked.findIndex((s) => s > 0);
  const fd = fs.openSync(image, 'r+');
  fs.writeSync(fd, Buffer.alloc(LBA), 0, LBA, victim * LBA);
  const flipped = acked.findIndex((s, i) => s > 0 && i !== victim);
  const one = Buffer.alloc(1);
  fs.readSync(fd, one, 0, 1, flipped * LBA + 100);
  one[0] ^= 0xff;
  fs.writeSync(fd, one, 0, 1, flipped * LBA + 100);
  fs.closeSync(fd);
  const broken = await verify(image, acked, durable, (ROUNDS + 1) * SEQ_STRIDE);
  t.equal(broken.lost.length, 1, `the checker reports the zeroed block lost: ${broken.lost[0]}`);
  t.equal(broken.torn.length, 1, `the checker reports the flipped block torn: ${broken.torn[0]}`);
  t.ok(totalFlushes > 0, `${totalFlushes} flushes completed in all (the flush check is not vacuous)`);
  t.ok(seconds < 60, `${ROUNDS} rounds, ${totalAcks} acknowledged writes checked, in ${seconds.toFixed(1)} s`);
});
