// The examples run as a user would run them, on the embedded controller, and succeed.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..');
const cases: Array<[string, string[], RegExp]> = [
  ['copy-blocks.ts', ['emu:backend=ram,size=64M', '64'], /pool buffer/],
  ['batch-reads.ts', ['emu:backend=null', '0.2'], /IOPS/],
  ['device-memory.ts', [], /own CMB holds the data: true; peer CMB holds the data: true/],
];

for (const [file, args, want] of cases) {
  t.test(`examples/${file}`, async (t) => {
    const r = spawnSync(process.execPath, [...process.execArgv, path.join(root, 'examples', file), ...args], {
      cwd: root,
      encoding: 'utf8',
      timeout: 120_000,
    });
    t.equal(r.status, 0, `exit status (stderr: ${r.stderr.slice(-400)})`);
    t.match(r.stdout, want);
  });
}
