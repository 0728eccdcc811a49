// `phyr validate` end to end over the synthetic device: usage errors, --list, the run with
// progress and every report file, the destructive confirmation (refused without a terminal,
// asked on one naming model and serial, skipped with --yes) and exit statuses.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';
import t from 'tap';
import { run, runValidate, type ValidateDeps } from '../../tools/commands/validate';
import { CaseRegistry } from '../../tools/validate/registry';
import { syntheticCases, syntheticSession, type SessionLog } from '../helpers/validate-fixtures';
import { parseXml } from '../helpers/xml-check';

interface Harness {
  deps: ValidateDeps;
  out: () => string;
  err: () => string;
  log: SessionLog;
  opened: string[];
  input: PassThrough;
}

function harness(options: { tty?: boolean; cases?: ReturnType<typeof syntheticCases> } = {}): Harness {
  let out = '';
  let err = '';
  const log: SessionLog = { prepared: [], released: [], recovered: [], closed: 0 };
  const opened: string[] = [];
  const input = new PassThrough();
  const deps: ValidateDeps = {
    registry: () => new CaseRegistry().add(options.cases ?? syntheticCases()),
    open: async (target, o) => {
      opened.push(`${target} nsid=${o.nsid}${o.peer ? ` peer=${o.peer}` : ''} timeout=${o.commandTimeoutMs}`);
      return syntheticSession(undefined, log);
    },
    stdout: { write: (s: string) => (out += s), isTTY: options.tty },
    stderr: { write: (s: string) => (err += s) },
    prompt: { input, output: new PassThrough(), isTTY: !!options.tty },
  };
  return { deps, out: () => out, err: () => err, log, opened, input };
}

t.test('usage errors exit 2 with a reason', async (t) => {
  for (const [argv, msg] of [
    [['--bogus'], /Unknown option '--bogus'/],
    [['--nsid', '0'], /--nsid must be an integer from 1/],
    [['--nsid', 'x'], /--nsid must be an integer/],
    [['--seed', '0'], /--seed must be an integer from 1 to 4294967295/],
    [['--seed', '4294967296'], /--seed must be an integer from 1 to 4294967295/],
    [['--seed', '1.5'], /--seed must be an integer/],
    [['--suite', 'bogus'], /unknown suite 'bogus'/],
    [['a', 'b'], /one TARGET at most/],
    [['--case', 'nothing.here'], /matches no case/],
    [['not-a-target'], /'not-a-target' is not a target/],
    [['emu', '--timeout', '0'], /--timeout must be an integer from 1 to 3600/],
    [['emu', '--peer', 'nope'], /'nope' is not a target/],
  ] as [string[], RegExp][]) {
    const h = harness();
    t.equal(await runValidate(argv, h.deps), 2, argv.join(' '));
    t.match(h.err(), msg);
    t.same(h.opened, [], 'no device opened');
  }
  const h = harness({ cases: [] });
  t.equal(await runValidate(['emu'], h.deps), 2);
  t.match(h.err(), /no case selected/);
});

t.test('--help and --list need no device', async (t) => {
  let h = harness();
  t.equal(await runValidate(['--help'], h.deps), 0);
  t.match(h.out(), /usage: phyr validate \[TARGET\][\s\S]*--destructive[\s\S]*integrity/);
  h = harness();
  t.equal(await runValidate(['--list', '--suite', 'errors', '--case', 'errors.synthetic.p*,errors.synthetic.destructive'], h.deps), 0);
  t.match(h.out(), /^id +suite +purpose \[spec\]\n/);
  t.match(h.out(), /errors\.synthetic\.pass +errors +synthetic: errors\.synthetic\.pass \[NVMe 1\.4 §0\.0\]/);
  t.match(h.out(), /errors\.synthetic\.destructive +errors +\(destructive\) synthetic/);
  t.match(h.out(), /2 of 11 case\(s\)\n$/);
  t.same(h.opened, []);
});

t.test('a run prints progress, writes every report and exits 1 on failure', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-validate-cmd-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const h = harness();
  const j = path.join(dir, 'nested', 'r.xml');
  const code = await runValidate(['emu:sgl=on', '--nsid', '2', '--peer', 'emu:cmb=1M', '--timeout', '5', '--junit', j, '--json', path.join(dir, 'r.json'), '--html', path.join(dir, 'r.html')], h.deps);
  t.equal(code, 1);
  t.same(h.opened, ['emu:sgl=on nsid=2 peer=emu:cmb=1M timeout=5000']);
  t.equal(h.log.closed, 1, 'session closed');
  const out = h.out();
  t.match(out, /^phyr validate emu:sgl=on: QEMU NVMe Ctrl \(serial SYN<&>"1, firmware 7\.2\.0, 1b36:0010\)\n/);
  t.match(out, /known deviations of this device: qemu-abort-not-aborted/);
  t.match(out, /11 case\(s\), non-destructive/);
  t.match(out, /\[ 1\/11\] deviation +admin\.abort\.synthetic .*: qemu-abort-not-aborted/);
  t.match(out, /\[ 3\/11\] FAIL +errors\.synthetic\.fail[^\n]*\n +checks: +synthetic: errors\.synthetic\.fail \(NVMe 1\.4 §0\.0\)\n +sent: +Read nsid=1[^\n]*\n +expected: status 0080h[^\n]*\n +received: status 0000h Success/);
  t.match(out, /skipped +errors\.synthetic\.destructive .*: writes to the media/);
  t.match(out, /suite +pass +fail +deviation +skipped +not-applicable\nadmin +0 +0 +1 +0 +0\nerrors +1 +4 +1 +3 +1\n/);
  t.match(out, /FAIL: 1 pass, 4 fail, 2 deviation, 3 skipped, 1 not-applicable of 11 case\(s\)/);
  t.match(out, /1 destructive case\(s\) skipped: add --destructive/);
  t.notMatch(out, /\x1b\[/, 'no colour codes off a terminal');
  t.equal(parseXml(fs.readFileSync(j, 'utf8')).attrs.tests, '11');
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'r.json'), 'utf8')) as { options: unknown; cases: unknown[] };
  t.same(json.options, { suites: [], destructive: false, nsid: 2 });
  t.equal(json.cases.length, 11);
  t.match(fs.readFileSync(path.join(dir, 'r.html'), 'utf8'), /FAIL: 4 case\(s\) failed/);
  t.match(out, /reports: JUnit .*r\.xml, JSON .*r\.json, HTML .*r\.html/);
});

t.test('a clean selection exits 0; a terminal gets a live status line', async (t) => {
  const h = harness({ tty: true });
  t.equal(await runValidate(['--case', 'errors.synthetic.pass,errors.synthetic.na'], h.deps), 0);
  t.match(h.out(), /\[1\/2\] running errors\.synthetic\.pass \.\.\.\r\x1b\[2K\[1\/2\] (\x1b\[32m)?pass/);
  t.match(h.out(), /PASS/);
});

t.test('--destructive without a terminal is refused unless --yes', async (t) => {
  const h = harness();
  t.equal(await runValidate(['--destructive', '--case', 'errors.synthetic.destructive'], h.deps), 2);
  t.match(h.err(), /refusing the destructive run: --destructive WRITES over namespace 1 of QEMU NVMe Ctrl \(serial SYN<&>"1, firmware 7\.2\.0\) at synthetic[\s\S]*add --yes/);
  t.same(h.log.prepared, [], 'nothing ran');
  t.equal(h.log.closed, 1, 'session closed after the refusal');

  const y = harness();
  t.equal(await runValidate(['--destructive', '--yes', '--case', 'errors.synthetic.destructive'], y.deps), 0);
  t.match(y.out(), /DESTRUCTIVE[\s\S]*pass +errors\.synthetic\.destructive/);
});

t.test('--destructive on a terminal asks, naming the device', async (t) => {
  const yes = harness({ tty: true });
  setImmediate(() => yes.input.write('yes\n'));
  t.equal(await runValidate(['--destructive', '--case', 'errors.synthetic.destructive'], yes.deps), 0);
  t.same(yes.log.prepared, ['errors.synthetic.destructive']);

  const no = harness({ tty: true });
  setImmediate(() => no.input.write('nope\n'));
  t.equal(await runValidate(['--destructive', '--case', 'errors.synthetic.destructive'], no.deps), 2);
  t.match(no.err(), /not confirmed \(answer "nope"\); nothing was written/);

  const eof = harness({ tty: true });
  setImmediate(() => eof.input.end());
  t.equal(await runValidate(['--destructive', '--case', 'errors.synthetic.destructive'], eof.deps), 2);
  t.match(eof.err(), /answer missing/);
});

t.test('the default entry point reports usage errors on stderr', async (t) => {
  const write = process.stderr.write;
  let err = '';
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    t.equal(await run(['--nsid', '0']), 2);
  } finally {
    process.stderr.write = write;
  }
  t.match(err, /--nsid must be an integer/);
});

t.test('report paths are checked before the suite runs: refused with exit 2, no device opened', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-validate-paths-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const image = path.join(dir, 'disk.img');
  fs.writeFileSync(image, 'IMAGE');
  const readOnly = path.join(dir, 'ro');
  fs.mkdirSync(readOnly);
  const aFile = path.join(dir, 'plain');
  fs.writeFileSync(aFile, 'x');
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const cases: Array<[string[], RegExp]> = [
    [['--junit', dir], /--junit '.*': is a directory; give a file name/],
    [['--json', `${dir}/`], /--json '.*': is a directory/],
    [['--html', '/dev/zero'], /--html '\/dev\/zero': is a character device, not a regular file/],
    [['--json', fifo], /is a FIFO \(named pipe\), not a regular file/],
    [['--junit', '/proc/self/mem'], /is under \/proc, a kernel interface/],
    [['--junit', '/sys/kernel/x.xml'], /is under \/sys, a kernel interface/],
    [['--json', path.join(aFile, 'r.json')], /a component of the path is not a directory/],
    [['--junit', ''], /an empty path/],
    [['--junit', path.join(dir, 'same'), '--json', path.join(dir, 'same')], /--junit and --json name the same file/],
    [[`emu:backend=file:${image}`, '--json', image], /is the disk image under test \(backend=file:/],
    [['emu', '--peer', `emu:backend=file:${image}`, '--html', image], /is the disk image under test/],
    [['emu:bogus=1'], /unknown key 'bogus'/],
  ];
  // Root ignores directory permissions; the read-only case needs an unprivileged user.
  if (process.getuid?.() !== 0) {
    fs.chmodSync(readOnly, 0o555);
    cases.push([['--junit', path.join(readOnly, 'r.xml')], /is not writable/]);
  }
  for (const [argv, msg] of cases) {
    const h = harness();
    t.equal(await runValidate(argv, h.deps), 2, argv.join(' '));
    t.match(h.err(), msg, argv.join(' '));
    t.same(h.opened, [], 'no device opened, no case run');
  }
  t.equal(fs.readFileSync(image, 'utf8'), 'IMAGE', 'the image is untouched');
  // A new file in a directory still to be created, and an existing writable file, pass.
  const h = harness();
  t.equal(await runValidate(['--suite', 'errors', '--case', 'errors.synthetic.pass', '--junit', path.join(dir, 'new', 'deeper', 'r.xml'), '--json', aFile], h.deps), 0, h.err());
  t.ok(fs.existsSync(path.join(dir, 'new', 'deeper', 'r.xml')));
  t.match(fs.readFileSync(aFile, 'utf8'), /^\{/);
});
