// The differential corpus, block sizes: each case of fixtures/fio-corpus/block-sizes.ts
// (bssplit with and without per-direction splits, bsrange, bs=R,W) through real fio 3.33
// (psync on a 16 MiB file) and phyr (the embedded controller's 16 MiB RAM namespace), both
// with --write_iolog; per direction, the IO count and each size's share of the IOs agree
// within the case's tolerance. A difference fails unless the case lists it with its reason.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { parseBenchArgs } from '../../bench/cli/config';
import { runJobs } from '../../bench/cli/runner';
import { NS_BYTES, openDevice, scratch } from './fixtures/fio-corpus/harness';
import { BLOCK_SIZE_CASES, type BlockSizeCase } from './fixtures/fio-corpus/block-sizes';

const s = scratch('bs');
t.teardown(s.done);

type Sizes = Map<number, number>;
interface Histogram { read: Sizes; write: Sizes }

// Per direction, how many IOs of each length an iolog (version 2 or 3) holds.
function histogram(file: string): Histogram {
  const h: Histogram = { read: new Map(), write: new Map() };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    const at = f.findIndex((x) => x === 'read' || x === 'write');
    if (at < 0 || f.length < at + 3) continue;
    const dir = h[f[at] as 'read' | 'write'];
    const len = Number(f[at + 2]);
    dir.set(len, (dir.get(len) ?? 0) + 1);
  }
  return h;
}

const total = (m: Sizes) => [...m.values()].reduce((a, b) => a + b, 0);
const fmt = (m: Sizes) => [...m.entries()].sort(([a], [b]) => a - b).map(([k, v]) => `${k / 1024}k:${v}`).join(' ');

/** The differences beyond the case's tolerance, one line each. */
export function compareSizes(fio: Histogram, phyr: Histogram, c: BlockSizeCase): string[] {
  const out: string[] = [];
  for (const dir of ['read', 'write'] as const) {
    const f = fio[dir];
    const p = phyr[dir];
    const nf = total(f);
    const np = total(p);
    if (Math.abs(nf - np) > c.ios * Math.max(nf, np)) out.push(`${dir} IOs: fio ${nf}, phyr ${np}`);
    for (const len of new Set([...f.keys(), ...p.keys()])) {
      const sf = nf ? (f.get(len) ?? 0) / nf : 0;
      const sp = np ? (p.get(len) ?? 0) / np : 0;
      if (Math.abs(sf - sp) > c.share) out.push(`${dir} size ${len}: share fio ${sf.toFixed(3)}, phyr ${sp.toFixed(3)} (fio ${fmt(f)}; phyr ${fmt(p)})`);
    }
  }
  return out;
}

t.test(`${BLOCK_SIZE_CASES.length} block-size cases: the sizes' shares agree with fio 3.33`, async (t) => {
  const d = await openDevice();
  t.teardown(() => d.close());
  const img = path.join(s.dir, 'ns.img');
  const fioLog = path.join(s.dir, 'fio.log');
  const phyrLog = path.join(s.dir, 'phyr.log');
  for (const c of BLOCK_SIZE_CASES) {
    const name = c.args.join(' ');
    // fio appends to an existing log: each case starts from none.
    for (const f of [fioLog, phyrLog, img]) fs.rmSync(f, { force: true });
    fs.writeFileSync(img, '');
    fs.truncateSync(img, NS_BYTES);
    const r = spawnSync('fio', ['--name=a', `--filename=${img}`, '--ioengine=psync', `--write_iolog=${fioLog}`, '--output-format=json', ...c.args], { encoding: 'utf8', cwd: s.dir });
    if (r.status !== 0) {
      t.fail(`${name}: fio refused it: ${r.stderr}`);
      continue;
    }
    const cfg = parseBenchArgs(['--name=a', `--write_iolog=${phyrLog}`, ...c.args]);
    const [res] = await runJobs(d, cfg.jobs, cfg.run, { isTty: false, write: () => undefined });
    t.equal(res.error, 0, `phyr ${name}`);
    const diffs = compareSizes(histogram(fioLog), histogram(phyrLog), c);
    const listed = c.differs ?? [];
    t.same(diffs.filter((l) => !listed.some((x) => l.includes(x.line))), [], name);
    for (const x of listed) {
      const shows = diffs.filter((l) => l.includes(x.line));
      t.ok(shows.length > 0, `${name}: the intended difference still shows (${x.why}): ${shows.join('; ')}`);
    }
  }
});
