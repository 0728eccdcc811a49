// clat_percentiles, lat_percentiles and slat_percentiles next to real fio (libaio on a
// regular file of the namespace's size, so that fio has submission latencies too): the
// series that carry "percentile" (and, in json+, "bins") per direction, and the percentile
// blocks of the normal output in fio's order.
import t from 'tap';
import { fioOracle, PHYR_CLI } from '../helpers/fio-oracle';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const oracle = fioOracle(t, 'pct', { fioOptions: ['--ioengine=libaio'] });
const { phyr, fio } = oracle;
const CLI = PHYR_CLI;
const TARGET = oracle.target;

type Shape = Record<string, Record<string, string[]>>;
// Per direction and series: which of "percentile" and "bins" are present.
function shape(json: string): Shape {
  const job = JSON.parse(json).jobs[0];
  const out: Shape = {};
  for (const d of ['read', 'write']) {
    out[d] = {};
    for (const s of ['slat_ns', 'clat_ns', 'lat_ns']) out[d][s] = ['percentile', 'bins'].filter((k) => k in job[d][s]);
  }
  return out;
}
const blocks = (normal: string) => normal.split('\n').filter((l) => /percentiles \(/.test(l)).map((l) => l.trim().split(' ')[0]);

const CASES = [
  [],
  ['--clat_percentiles=0'],
  ['--lat_percentiles=1'],
  ['--slat_percentiles=1'],
  ['--clat_percentiles=0', '--lat_percentiles=1'],
  ['--slat_percentiles=1', '--lat_percentiles=1'],
  ['--slat_percentiles=1', '--clat_percentiles=0'],
];

for (const extra of CASES) {
  t.test(`${extra.join(' ') || 'defaults'}: the series with percentiles as in fio`, async (t) => {
    const job = ['--name=p', '--rw=write', '--size=1m', ...extra];
    t.same(shape(phyr(['--output-format=json+', ...job])), shape(fio(['--output-format=json+', ...job])), 'json+: percentile and bins per series');
    t.same(shape(phyr(['--output-format=json', ...job])).write.clat_ns.includes('bins'), false, 'json: no bins');
    t.same(blocks(phyr(job)), blocks(fio(job)), 'normal: percentile blocks in order');
  });
}

t.test('a percentile option in a job file, and a bad value', async (t) => {
  const file = path.join(oracle.dir(), 'p.fio');
  fs.writeFileSync(file, '[p]\nrw=read\nsize=1m\nlat_percentiles=1\nclat_percentiles=0\n');
  t.same(blocks(phyr([file])), ['lat'], 'lat percentiles only');
  const r = spawnSync(process.execPath, [CLI, 'bench', TARGET, '--lat_percentiles=maybe', '--name=x'], { encoding: 'utf8' });
  t.equal(r.status, 2, 'usage error');
  t.match(r.stderr, /lat_percentiles=maybe/);
});
