// fio's flow control (flow_id, flow, flow_sleep) next to real fio 3.33 (psync on a regular
// file of the namespace's size): jobs sharing a flow_id issue IOs in the ratio of their
// weights. Both sides pace every job at the same rate_iops, so the heaviest job runs at that
// rate and the others at their weights' share of it, whatever either device's speed; the
// held jobs wait flow_sleep (100 us) instead of spinning, so on a loaded machine they leave
// the CPU to the others. The jobs of a run do not start at the same instant (nor on fio's
// side), and the one that ends first takes its weight out of the flow, so the last job
// runs unheld for that skew: the ratios agree within 15 % of the weights' ratio.
import t from 'tap';
import { fioOracle } from '../helpers/fio-oracle';

const oracle = fioOracle(t, 'flow');

interface Doc {
  jobs: Array<{ jobname: string; error: number; read: { total_ios: number } }>;
}

const PACED = ['--rw=randread', '--bs=4k', '--size=64m', '--time_based', '--runtime=2', '--flow_sleep=100'];

function counts(out: string): number[] {
  return (JSON.parse(out) as Doc).jobs.map((j) => j.read.total_ios);
}

function ratiosWithin(t: { ok(v: boolean, m: string): unknown }, who: string, ios: number[], weights: number[]): void {
  const heavy = weights.indexOf(Math.max(...weights));
  for (let i = 0; i < ios.length; i++) {
    if (i === heavy) continue;
    const want = weights[i] / weights[heavy];
    const got = ios[i] / ios[heavy];
    t.ok(Math.abs(got - want) <= 0.15 * want, `${who}: job ${i}'s IOs / the heaviest job's ${got.toFixed(3)} (weights: ${want.toFixed(3)}; IOs ${ios.join(', ')})`);
  }
}

t.test('two jobs of one flow, weights 2 and 1: IOs 2:1 on both', async (t) => {
  const args = [...PACED, '--rate_iops=1000', '--flow_id=7', '--name=a', '--flow=2', '--name=b', '--flow=1'];
  const f = counts(oracle.fio(['--output-format=json', ...args]));
  const p = counts(oracle.phyr(['--output-format=json', ...args]));
  ratiosWithin(t, 'fio', f, [2, 1]);
  ratiosWithin(t, 'phyr', p, [2, 1]);
  // The heaviest job runs at its rate: about 2000 IOs in 2 s on both.
  for (const [who, c] of [['fio', f], ['phyr', p]] as const) t.ok(c[0] > 1500 && c[0] <= 2002, `${who}: the heavy job at its rate (${c[0]})`);
});

t.test('three jobs, weights 3:2:1 (fio\'s HOWTO example), and a job outside the flow runs unheld', async (t) => {
  const args = [...PACED, '--rate_iops=600', '--name=a', '--flow=3', '--name=b', '--flow=2', '--name=c', '--flow=1', '--name=free'];
  const f = counts(oracle.fio(['--output-format=json', ...args]));
  const p = counts(oracle.phyr(['--output-format=json', ...args]));
  ratiosWithin(t, 'fio', f.slice(0, 3), [3, 2, 1]);
  ratiosWithin(t, 'phyr', p.slice(0, 3), [3, 2, 1]);
  for (const [who, c] of [['fio', f], ['phyr', p]] as const) t.ok(c[3] > 900, `${who}: the job without flow= runs at its own rate (${c[3]} IOs)`);
});

t.test('different flow_ids do not hold each other back', async (t) => {
  const args = [...PACED, '--rate_iops=500', '--name=a', '--flow_id=1', '--flow=1', '--name=b', '--flow_id=2', '--flow=1'];
  for (const [who, c] of [['fio', counts(oracle.fio(['--output-format=json', ...args]))], ['phyr', counts(oracle.phyr(['--output-format=json', ...args]))]] as const) {
    t.ok(c[0] > 750 && c[1] > 750, `${who}: both at their rate (${c.join(', ')})`);
  }
});
