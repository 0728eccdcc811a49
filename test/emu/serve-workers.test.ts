// worker_threads as served clients: each worker calls connect() and does verified IO on its
// own queue pair, concurrently, with no lock on the data path (each queue pair is one
// thread's); then a worker that exits without close() — its client must be released.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { connect } from '../../index';
import { startDaemon, stopDaemon, tmpDir } from './fixtures/serve-helpers';

const WORKER = path.join(__dirname, 'fixtures', 'serve-worker.js');
const WORKERS = 3;
const IOS = 300;
const dir = tmpDir();
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(socket: string, first: number, close: boolean): Promise<{ bad?: number; clientId?: number; error?: string; exit: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { workerData: { socket, first, ios: IOS, close } });
    let msg: { bad?: number; clientId?: number; error?: string } = {};
    w.on('message', (m) => (msg = m));
    w.on('error', reject);
    w.on('exit', (exit) => resolve({ ...msg, exit }));
  });
}

t.test(`${WORKERS} worker threads, each its own client and queue pair`, async (t) => {
  const d = await startDaemon(dir);
  t.teardown(() => stopDaemon(d));
  const observer = await connect(d.socket, { hugepages: 'off' });
  const results = await Promise.all(Array.from({ length: WORKERS }, (_, i) => run(d.socket, i * 1024, true)));
  for (const [i, r] of results.entries()) {
    t.notOk(r.error, `worker ${i} ran (${r.error ?? 'no error'})`);
    t.equal(r.bad, 0, `worker ${i}: ${IOS} verified write+read pairs, none wrong`);
  }
  t.equal(new Set(results.map((r) => r.clientId)).size, WORKERS, 'each worker was its own client');
  // A worker that exits without close(): when its environment ends, its descriptors close,
  // the daemon sees the hang-up and releases its queue pair and mappings.
  const r = await run(d.socket, 4 * 1024, false);
  t.equal(r.bad, 0, 'the unclosed worker verified its IO too');
  let s = await observer.status();
  for (let i = 0; i < 300 && s.perClient.some((c) => c.clientId === r.clientId); i++) {
    await new Promise((res) => setTimeout(res, 10));
    s = await observer.status();
  }
  t.notOk(s.perClient.some((c) => c.clientId === r.clientId), `the daemon released the client of the worker that exited without close() (${s.clients} left)`);
  t.equal(s.queuePairs, 0, 'no queue pair is left of the workers');
  await observer.close();
});
