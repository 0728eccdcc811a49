// phyr bench on QEMU's NVMe through VFIO: pool buffers, the target's own CMB, the peer
// controller's CMB (peer-to-peer in one container), and forced SGL — one run, one job per
// group, checked through fio's JSON output.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { releaseShared } from '../fixture';
import { note, test } from '../harness';
import { PEER, TARGET } from '../topology';

const PHYR = path.resolve(__dirname, '..', '..', '..', 'tools', 'phyr.js');

interface JsonJob {
  jobname: string;
  error: number;
  read: { io_bytes: number; iops: number };
  write: { io_bytes: number; iops: number };
}

test('bench: pool, own CMB, peer CMB and forced SGL jobs on QEMU move data without an error', () => {
  releaseShared(); // phyr bench opens the target (and the peer) in its own process
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-bench-')), 'bench.json');
  const common = ['--runtime=1', '--time_based', '--iodepth=8', '--size=8m', '--stonewall'];
  const jobs = [
    ['--name=pool-randread', '--rw=randread'],
    ['--name=cmb-randwrite', '--rw=randwrite', '--mem=cmb', '--bs=16k'],
    ['--name=cmb-randread', '--rw=randread', '--mem=cmb'],
    ['--name=p2p-read', '--rw=read', `--mem=p2p:${PEER},bar=2`, '--bs=8k'],
    ['--name=sgl-randread', '--rw=randread', '--dptr=sgl'],
  ];
  const args = [PHYR, 'bench', TARGET, '--output-format=json', `--output=${out}`, '--eta=never', ...jobs.flatMap((j) => [...j, ...common])];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 5 * 60 * 1000 });
  assert.equal(r.status, 0, `exit status ${r.status}: ${r.stderr}`);
  const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as { jobs: JsonJob[]; phyr?: { iommu_faults?: number } };
  assert.deepEqual(
    doc.jobs.map((j) => j.jobname),
    jobs.map((j) => j[0].slice('--name='.length)),
  );
  for (const j of doc.jobs) {
    assert.equal(j.error, 0, `${j.jobname}: error ${j.error}`);
    assert.ok(j.read.io_bytes + j.write.io_bytes > 0, `${j.jobname} moved data`);
  }
  note(`bench on QEMU (TCG): ${doc.jobs.map((j) => `${j.jobname} ${Math.round(j.read.iops + j.write.iops)} IOPS`).join(', ')}`);
});
