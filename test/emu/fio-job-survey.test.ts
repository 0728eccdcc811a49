// bench/fio-job-survey.js over a folder of small job files of our own: each lands in its
// class (runs, runs with notices, refused naming the option, unknown, stopped at the cap)
// beside real fio's --parse-only verdict.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';

const script = path.resolve(__dirname, '../../bench/fio-job-survey.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-survey-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const files: Record<string, string> = {
  'a-plain.fio': '[w]\nrw=write\nbs=64k\nsize=1m\n',
  'b-kernel.fio': '[r]\nioengine=libaio\nrw=read\nbs=64k\nsize=1m\n',
  'c-zoned.fio': '[z]\nzonemode=zbd\nrw=write\nsize=1m\n',
  'd-typo.fio': '[t]\nrw=read\nsizee=1m\n',
  'e-long.fio': '[l]\nrw=randread\nsize=1m\nruntime=1h\ntime_based\n',
  'f-null.fio': '[n]\nioengine=null\nrw=read\nbs=4k\nsize=1m\n',
};
for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);

interface Row { file: string; target: string; verdict: string; option?: string; why?: string; fio: string; capped?: boolean }

t.test('each file lands in its class', async (t) => {
  const r = spawnSync(process.execPath, [script, '--json', '--target=emu:backend=ram,size=16M', '--cap=2', dir], { encoding: 'utf8', timeout: 120000 });
  t.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { files: number; counts: Record<string, number>; rows: Row[] };
  const row = (f: string) => out.rows.find((x) => x.file === f) as Row;
  t.equal(out.files, 6);
  t.equal(row('a-plain.fio').verdict, 'runs');
  t.match(row('a-plain.fio').why, /^1 job\(s\), 16 IOs$/, 'the IOs the JSON report counts');
  t.equal(row('b-kernel.fio').verdict, 'runs+notices');
  t.match(row('c-zoned.fio'), { verdict: 'refused', option: 'zonemode' });
  t.match(row('d-typo.fio'), { verdict: 'unknown', option: 'sizee' });
  t.match(row('e-long.fio'), { verdict: 'runs', capped: true, why: /stopped at the 2 s cap/ });
  t.match(row('f-null.fio'), { verdict: 'runs+notices', target: 'null', why: '1 job(s), 256 IOs on null' }, 'a null-engine file runs on the null TARGET');
  t.equal(row('a-plain.fio').fio, 'ok', 'fio takes the plain file');
  t.match(row('d-typo.fio').fio, /^refuses: /, 'fio refuses the typo too');
  t.same(out.counts, { runs: 2, 'runs+notices': 2, refused: 1, unknown: 1, failed: 0, crash: 0, hang: 0 });
});
