// phyr bench against real fio 3.33 on verify_state_save: a job with verify leaves fio's
// version 3 verify state file, local-NAME-INDEX-verify.state, in the working directory when
// it ends (fio's default), with the same writes issued and last completed write offsets as
// fio's for the same job; none without verify or with verify_state_save=0. fio runs on a
// regular file with psync (the oracle), phyr on the embedded controller, each in its own
// directory.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PHYR_CLI, spawnIn, type Run } from '../helpers/fio-oracle';
import { decodeVerifyState } from '../../bench/cli/verify-state';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-verify-state-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const fioDir = path.join(tmp, 'fio'), phyrDir = path.join(tmp, 'phyr');
const img = path.join(tmp, 'ns.img');

const phyr = (args: string[]): Run => spawnIn(phyrDir, process.execPath, ['--no-warnings', PHYR_CLI, 'bench', 'emu:backend=ram,size=64M', ...args, '--eta=never']);
const fio = (args: string[]): Run => spawnIn(fioDir, 'fio', ['--ioengine=psync', `--filename=${img}`, ...args]);

function fresh(): void {
  for (const d of [fioDir, phyrDir]) {
    fs.rmSync(d, { recursive: true, force: true });
    fs.mkdirSync(d);
  }
  fs.rmSync(img, { force: true });
  fs.writeFileSync(img, '');
  fs.truncateSync(img, 64 << 20);
}

const states = (dir: string): string[] => fs.readdirSync(dir).filter((n) => n.endsWith('-verify.state')).sort();

t.before(() => {
  if (!fs.existsSync(PHYR_CLI)) throw new Error(`${PHYR_CLI} is missing: run npm run build:ts first`);
  for (const tool of ['fio', 'fio-verify-state']) {
    const r = spawnSync('sh', ['-c', `command -v ${tool}`]);
    if (r.status !== 0) throw new Error(`${tool} is required (Debian's fio package): these tests compare with fio itself`);
  }
});

t.test('a verifying write job leaves fio\'s state file, with fio\'s writes and last completions', async (t) => {
  for (const extra of [['--do_verify=0', '--iodepth=4'], ['--iodepth=1'], ['--iodepth=8', '--offset=1m', '--do_verify=0']]) {
    fresh();
    const args = ['--name=vs/job', '--rw=write', '--bs=4k', '--size=256k', '--verify=crc32c', ...extra];
    t.equal(fio(args).status, 0);
    const p = phyr(args);
    t.equal(p.status, 0, p.stderr);
    t.same(states(phyrDir), ['local-vs.job-0-verify.state'], `${extra.join(' ')}: phyr's file, under fio's name`);
    t.same(states(phyrDir), states(fioDir), 'the name fio gives it');
    const ps = decodeVerifyState(fs.readFileSync(path.join(phyrDir, 'local-vs.job-0-verify.state')));
    const fs_ = decodeVerifyState(fs.readFileSync(path.join(fioDir, 'local-vs.job-0-verify.state')));
    t.same(ps, fs_, `${extra.join(' ')}: name, index, depth, writes issued and the last completed offsets as fio's`);
    const r = spawnSync('fio-verify-state', [path.join(phyrDir, 'local-vs.job-0-verify.state')], { encoding: 'utf8' });
    t.equal(r.status, 0, 'fio-verify-state reads phyr\'s file');
    t.match(r.stdout, /Number IOs:\s+64/);
  }
});

t.test('two jobs: one file each, numbered as fio numbers them', async (t) => {
  fresh();
  const args = ['--name=a', '--rw=write', '--bs=4k', '--size=64k', '--verify=crc32c', '--do_verify=0', '--name=b', '--offset=1m', '--rw=write', '--bs=4k', '--size=64k', '--verify=crc32c', '--do_verify=0'];
  t.equal(fio(args).status, 0);
  const p = phyr(args);
  t.equal(p.status, 0, p.stderr);
  t.same(states(phyrDir), ['local-a-0-verify.state', 'local-b-1-verify.state']);
  t.same(states(phyrDir), states(fioDir));
  for (const n of states(phyrDir)) t.same(decodeVerifyState(fs.readFileSync(path.join(phyrDir, n))), decodeVerifyState(fs.readFileSync(path.join(fioDir, n))), `${n}: as fio's`);
});

t.test('no verify, or verify_state_save=0: no file, as fio', async (t) => {
  for (const extra of [[], ['--verify=crc32c', '--verify_state_save=0']]) {
    fresh();
    const args = ['--name=n', '--rw=write', '--bs=4k', '--size=64k', ...extra];
    t.equal(fio(args).status, 0);
    const p = phyr(args);
    t.equal(p.status, 0, p.stderr);
    t.same(states(fioDir), [], `fio ${extra.join(' ') || '(no verify)'}: none`);
    t.same(states(phyrDir), [], `phyr ${extra.join(' ') || '(no verify)'}: none`);
  }
});
