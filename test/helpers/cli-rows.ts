// Runs tables of bad command lines against the built CLI (dist/tools/phyr.js): each row in
// its own process with a time limit, two at a time; each must end by itself with the
// expected exit status, say what is wrong on stderr and print no stack trace.
import type { Test } from 'tap';
import { execFile } from 'child_process';
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
