// fio's flow control (flow_id, flow, flow_sleep) next to real fio 3.33 (psync on a regular
// file of the namespace's size): jobs sharing a flow_id issue IOs in the ratio of their
// weights. Both sides pace every job at the same rate_iops, so the heaviest job runs at that
// rate and the others at their weights' share of it, whatever either device's speed; the
// held jobs wait flow_sleep (100 us) instead of spinning, so on a loaded machine they leave
// the CPU to the others. The jobs of a run do not start at the same instant (nor on fio's
// side), and the one that ends first takes its weight out of the flow, so a paced job held
// back catches up on its rate once it runs unheld: the totals say little. The ratio is
// therefore taken from both programs' IOPS logs (write_iops_log, 250 ms windows) over the
// windows while all the flow's jobs ran (the first and last two left out), and agrees with
// the weights' ratio within 15 %.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { fioOracle } from '../helpers/fio-oracle';

const oracle = fioOracle(t, 'flow');

interface Doc {
  jobs: Array<{ jobname: string; error: number; read: { total_ios: number } }>;
}

const PACED = ['--rw=randread', '--bs=4k', '--size=64m', '--time_based', '--runtime=3', '--flow_sleep=100', '--log_avg_msec=250'];

function counts(out: string): number[] {
  return (JSON.parse(out) as Doc).jobs.map((j) => j.read.total_ios);
}

// Each job's IOs over the middle windows of its IOPS log (PREFIX_iops.N.log: "ms, IOPS, ...").
function middleIos(prefix: string, jobs: number): number[] {
  const logs = Array.from({ length: jobs }, (_, i) => fs.readFileSync(`${prefix}_iops.${i + 1}.log`, 'utf8').trim().split('\n').map((l) => Number(l.split(',')[1])));
  const n = Math.min(...logs.map((l) => l.length));
  return logs.map((l) => l.slice(2, n - 2).reduce((a, b) => a + b, 0));
}

function both(args: string[], jobs: number): { fio: number[]; phyr: number[]; fioTotals: number[]; phyrTotals: number[] } {
  const f = path.join(oracle.dir(), 'fio');
  const p = path.join(oracle.dir(), 'phyr');
  const fioTotals = counts(oracle.fio(['--output-format=json', `--write_iops_log=${f}`, ...args]));
  const phyrTotals = counts(oracle.phyr(['--output-format=json', `--write_iops_log=${p}`, ...args]));
  return { fio: middleIos(f, jobs), phyr: middleIos(p, jobs), fioTotals, phyrTotals };
}

function ratiosWithin(t: { ok(v: boolean, m: string): unknown }, who: string, ios: number[], weights: number[]): void {
  const heavy = weights.indexOf(Math.max(...weights));
  for (let i = 0; i < ios.length; i++) {
    if (i === heavy) continue;
    const want = weights[i] / weights[heavy];
    const got = ios[i] / ios[heavy];
    t.ok(Math.abs(got - want) <= 0.15 * want, `${who}: job ${i}'s IOPS / the heaviest job's ${got.toFixed(3)} (weights: ${want.toFixed(3)}; IOPS summed over the middle windows ${ios.join(', ')})`);
  }
}

t.test('two jobs of one flow, weights 2 and 1: IOs 2:1 on both', async (t) => {
  const args = [...PACED, '--rate_iops=1000', '--flow_id=7', '--name=a', '--flow=2', '--name=b', '--flow=1'];
  const r = both(args, 2);
  ratiosWithin(t, 'fio', r.fio, [2, 1]);
  ratiosWithin(t, 'phyr', r.phyr, [2, 1]);
  // The heaviest job runs at its rate: about 3000 IOs in 3 s on both.
  for (const [who, c] of [['fio', r.fioTotals], ['phyr', r.phyrTotals]] as const) t.ok(c[0] > 2250 && c[0] <= 3002, `${who}: the heavy job at its rate (${c[0]})`);
});

t.test('three jobs, weights 3:2:1 (fio\'s HOWTO example), and a job outside the flow runs unheld', async (t) => {
  const args = [...PACED, '--rate_iops=600', '--name=a', '--flow=3', '--name=b', '--flow=2', '--name=c', '--flow=1', '--name=free'];
  const r = both(args, 4);
  ratiosWithin(t, 'fio', r.fio.slice(0, 3), [3, 2, 1]);
  ratiosWithin(t, 'phyr', r.phyr.slice(0, 3), [3, 2, 1]);
  for (const [who, c] of [['fio', r.fioTotals], ['phyr', r.phyrTotals]] as const) t.ok(c[3] > 1350, `${who}: the job without flow= runs at its own rate (${c[3]} IOs)`);
});

t.test('different flow_ids do not hold each other back', async (t) => {
  const args = [...PACED, '--rate_iops=500', '--name=a', '--flow_id=1', '--flow=1', '--name=b', '--flow_id=2', '--flow=1'];
  for (const [who, c] of [['fio', counts(oracle.fio(['--output-format=json', ...args]))], ['phyr', counts(oracle.phyr(['--output-format=json', ...args]))]] as const) {
    t.ok(c[0] > 1125 && c[1] > 1125, `${who}: both at their rate (${c.join(', ')})`);
  }
});
