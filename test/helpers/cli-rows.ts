// Runs tables of bad command lines against the built CLI (dist/tools/phyr.js): each row in
// its own process with a time limit, two at a time; each must end by itself with the
// expected exit status, say what is wrong on stderr and print no stack trace.
import type { Test } from 'tap';
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');

/** One bad command line. */
export interface Row {
  args: string[];
  /** What stderr must say. */
  says: RegExp;
  /** Expected exit status (2 unless said). */
  exit?: number;
}

interface RowResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runRow(row: Row, limitMs: number, pathDir: string): Promise<RowResult> {
  return new Promise((resolve) => {
    const env = { ...process.env, PATH: pathDir, PHYR_DEBUG: '' };
    const child = execFile(process.execPath, [CLI, ...row.args], { encoding: 'utf8', timeout: limitMs, killSignal: 'SIGKILL', env }, (err, _stdout, stderr) => {
      const e = err as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
      resolve({ status: e ? (typeof e.code === 'number' ? e.code : null) : 0, signal: e?.signal ?? null, stderr });
    });
    child.stdin?.end();
  });
}

/**
 * Runs every row (two processes at a time: each is short, most of it Node's start-up) with
 * PATH set to `pathDir`, and asserts each row's outcome.
 */
export async function checkRows(t: Test, rows: Row[], limitMs: number, pathDir: string): Promise<void> {
  const results = new Array<RowResult>(rows.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < rows.length) {
      const i = next++;
      results[i] = await runRow(rows[i], limitMs, pathDir);
    }
  };
  await Promise.all([worker(), worker()]);
  let hangs = 0;
  let traces = 0;
  rows.forEach((row, i) => {
    const r = results[i];
    const label = `phyr ${row.args.map((a) => (a === '' || /\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`;
    if (r.signal) hangs++;
    const trace = /^\s+at .+:\d+:\d+\)?$/m.test(r.stderr);
    if (trace) traces++;
    t.equal(r.signal, null, `${label}: ended by itself within ${limitMs} ms`);
    t.equal(r.status, row.exit ?? 2, `${label}: exit status\n${r.stderr}`);
    t.match(r.stderr, row.says, `${label}: says what is wrong`);
    t.notOk(trace, `${label}: no stack trace`);
  });
  t.comment(`${rows.length} bad command lines tried: ${hangs} hangs, ${traces} stack traces`);
}

/** The files the bad-command-line tables name: a FIFO, bad and good job files, an image, a directory. */
export interface CliFixtures {
  /** Path of `name` in the fixture directory. */
  f: (name: string) => string;
  /** An empty directory to use as PATH (no QEMU, no tool an older CLI might start). */
  emptyBin: string;
  /** An embedded target on the 1 MiB image disk.img (filled with 0x5a). */
  imageTarget: string;
}

/** Makes the fixtures in a temporary directory removed at the end of `t`. */
export function cliFixtures(t: Test): CliFixtures {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-cli-bad-'));
  t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const f = (name: string): string => path.join(tmp, name);
  fs.mkdirSync(f('bin'));
  execFileSync('mkfifo', [f('fifo')]);
  fs.writeFileSync(f('big.fio'), `[big]\n; ${'x'.repeat(1 << 20)}\n`);
  fs.writeFileSync(f('nul.fio'), '[j]\nrw=read\n\0\n');
  fs.writeFileSync(f('ok.fio'), '[j]\nrw=read\nbs=4k\nsize=1m\n');
  fs.writeFileSync(f('include.fio'), 'include missing.fio\n[j]\n');
  fs.writeFileSync(f('global-only.fio'), '[global]\nrw=read\n');
  fs.writeFileSync(f('bad-rw.fio'), '[j]\nrw=sideways\n');
  fs.writeFileSync(f('run-opt.fio'), '[j]\noutput=x\n');
  fs.writeFileSync(f('disk.img'), Buffer.alloc(1 << 20, 0x5a));
  fs.mkdirSync(f('dir'));
  fs.writeFileSync(f('plain'), 'x');
  return { f, emptyBin: f('bin'), imageTarget: `emu:backend=file:${f('disk.img')}` };
}
