// Real fio as the oracle of a bench test: a regular file of the namespace's size for fio
// (a block device would need root and a device), the built CLI for phyr, and both run the
// same option list. The test fails loudly when fio or the build is missing: CI installs
// Debian's fio, and a comparison that cannot run must not pass.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Test } from 'tap';

/** The built CLI the tests spawn. */
export const PHYR_CLI = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');

/** What a test runs on each side. */
export interface FioOracle {
  /** phyr bench on the embedded target with `args`; throws with stderr on a non-zero exit. */
  phyr(args: string[]): string;
  /** fio on the image file with `args` (after the engine and file options); throws likewise. */
  fio(args: string[]): string;
  /** The image file fio runs on (valid from t.before on). */
  image(): string;
  /** The test's temporary folder, the image's (valid from t.before on). */
  dir(): string;
  /** The embedded target phyr runs on: a null backend of the image's size. */
  target: string;
}

export interface FioOracleOptions {
  /** Namespace (and image) size: 64 MiB unless given. */
  nsBytes?: number;
  /** fio's options before the test's own: psync unless given. */
  fioOptions?: string[];
}

/** A finished command: its exit status and output, whatever the status. */
export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` in `cwd` (60 s at most, then SIGKILL) and returns its status and output. */
export function spawnIn(cwd: string, cmd: string, args: string[]): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', cwd });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Sets up the image before `t`'s tests and removes it after them. */
export function fioOracle(t: Test, name: string, options: FioOracleOptions = {}): FioOracle {
  const nsBytes = options.nsBytes ?? 64 << 20;
  const target = `emu:backend=null,size=${nsBytes}`;
  let dir = '';
  let image = '';
  t.before(() => {
    if (!fs.existsSync(PHYR_CLI)) throw new Error(`${PHYR_CLI} is missing: run npm run build:ts first`);
    if (spawnSync('fio', ['--version']).status !== 0) throw new Error('fio is not installed (Debian package fio): this test compares phyr with it');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `phyr-fio-${name}-`));
    image = path.join(dir, 'ns.img');
    fs.writeFileSync(image, '');
    fs.truncateSync(image, nsBytes);
  });
  t.teardown(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    phyr: (args) => run(process.execPath, [PHYR_CLI, 'bench', target, '--eta=never', ...args]),
    fio: (args) => run('fio', [...(options.fioOptions ?? ['--ioengine=psync']), `--filename=${image}`, ...args]),
    image: () => image,
    dir: () => dir,
    target,
  };
}
