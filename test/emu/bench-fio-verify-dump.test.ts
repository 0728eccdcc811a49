// phyr bench against real fio 3.33 on verify_dump: a block that fails its pattern or its
// checksum is written to <name>.<byte offset>.received and .expected in the working
// directory, with the bytes read and the bytes the job writes there; verify_dump=0 (fio's
// default) writes none. fio runs on a regular file with psync (the oracle), phyr on the
// embedded controller with a file-backed namespace, each in a directory of its own.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PHYR_CLI, spawnIn, type Run } from '../helpers/fio-oracle';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-fio-verify-dump-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));
const fioDir = path.join(tmp, 'fio'), phyrDir = path.join(tmp, 'phyr');
const img = path.join(tmp, 'ns.img'), store = path.join(tmp, 'phyr-ns.img');
const NS = 64 << 20;
const target = `emu:backend=file:${store},size=64M`;

const phyr = (args: string[]): Run => spawnIn(phyrDir, process.execPath, ['--no-warnings', PHYR_CLI, 'bench', target, ...args, '--eta=never']);
const fio = (args: string[]): Run => spawnIn(fioDir, 'fio', ['--ioengine=psync', `--filename=${img}`, ...args]);

function fresh(): void {
  for (const d of [fioDir, phyrDir]) {
    fs.rmSync(d, { recursive: true, force: true });
    fs.mkdirSync(d);
  }
  for (const f of [img, store]) {
    fs.rmSync(f, { force: true });
    fs.writeFileSync(f, '');
    fs.truncateSync(f, NS);
  }
}

/** The dump files of a directory, their names with the base (ns.img / ns1) cut off. */
function dumps(dir: string): Map<string, Buffer> {
  return new Map(fs.readdirSync(dir).filter((n) => /\.(received|expected)$/.test(n)).map((n) => [n.replace(/^(ns\.img|ns1)\./, ''), fs.readFileSync(path.join(dir, n))]));
}

function readAt(file: string, offset: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, b, 0, len, offset);
  fs.closeSync(fd);
  return b;
}

function invertByte(file: string, offset: number): void {
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, offset);
  b[0] ^= 0xff;
  fs.writeSync(fd, b, 0, 1, offset);
  fs.closeSync(fd);
}

t.before(() => {
  if (!fs.existsSync(PHYR_CLI)) throw new Error(`${PHYR_CLI} is missing: run npm run build:ts first`);
  const v = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  if (v.error || v.status !== 0) throw new Error('fio is not installed: these tests compare phyr with real fio (apt-get install fio)');
});

t.test('a pattern mismatch dumps the block read and the pattern expected, named as fio names them', async (t) => {
  fresh();
  // fio's verify interval defaults to the block size, phyr's to the LBA size: 4k for both.
  const base = ['--name=d', '--rw=write', '--bs=4k', '--size=4k', '--offset=8k', '--verify=pattern', '--verify_interval=4k'];
  t.equal(fio([...base, '--verify_pattern=0xaa', '--do_verify=0']).status, 0);
  const w = phyr([...base, '--verify_pattern=0xaa', '--do_verify=0']);
  t.equal(w.status, 0, w.stderr);
  const f = fio([...base, '--verify_pattern=0xbb', '--verify_only', '--verify_dump=1']);
  const p = phyr([...base, '--verify_pattern=0xbb', '--verify_only', '--verify_dump=1']);
  t.match(f.stderr + f.stdout, /received data dumped as ns\.img\.8192\.received/, 'fio names the file <filename base>.<byte offset>.received');
  t.equal(p.status, 1);
  t.match(p.stderr, /received data dumped as ns1\.8192\.received/);
  t.match(p.stderr, /expected data dumped as ns1\.8192\.expected/);
  const fd = dumps(fioDir), pd = dumps(phyrDir);
  t.same([...pd.keys()].sort(), ['8192.expected', '8192.received'], 'phyr: the two files, at the block\'s byte offset');
  t.same([...pd.keys()].sort(), [...fd.keys()].sort(), 'the same offsets and suffixes as fio\'s');
  t.ok(pd.get('8192.received')?.equals(Buffer.alloc(4096, 0xaa)), 'received: the bytes on the namespace');
  t.ok(pd.get('8192.expected')?.equals(Buffer.alloc(4096, 0xbb)), 'expected: the verify pattern');
  t.ok(fd.get('8192.received')?.equals(pd.get('8192.received') ?? Buffer.alloc(0)), 'fio received the same bytes');
  t.ok(fd.get('8192.expected')?.equals(pd.get('8192.expected') ?? Buffer.alloc(0)), 'fio expected the same bytes');
});

t.test('a checksum mismatch dumps the changed block and the block as written', async (t) => {
  fresh();
  const base = ['--name=d', '--rw=write', '--bs=4k', '--size=64k', '--verify=crc32c', '--verify_interval=4k'];
  t.equal(fio([...base, '--do_verify=0']).status, 0);
  const w = phyr([...base, '--do_verify=0']);
  t.equal(w.status, 0, w.stderr);
  // One byte inside the third block (after its header) changes between the write and the check.
  const fOrig = readAt(img, 8192, 4096), pOrig = readAt(store, 8192, 4096);
  invertByte(img, 8192 + 100);
  invertByte(store, 8192 + 100);
  const f = fio([...base, '--verify_only', '--verify_dump=1']);
  const p = phyr([...base, '--verify_only', '--verify_dump=1']);
  t.not(f.status, 0, 'fio fails the job');
  t.equal(p.status, 1, 'phyr fails the job');
  const fd = dumps(fioDir), pd = dumps(phyrDir);
  t.same([...fd.keys()].sort(), ['8192.expected', '8192.received'], 'fio dumps the changed block only');
  t.same([...pd.keys()].sort(), [...fd.keys()].sort(), 'phyr dumps the same block, under the same names');
  t.ok(pd.get('8192.received')?.equals(readAt(store, 8192, 4096)), 'received: the block as changed');
  t.ok(pd.get('8192.expected')?.equals(pOrig), 'expected: the block as the job wrote it');
  // fio rebuilds its 40-byte header with the time of the check (time_sec, time_nsec,
  // thread, numberio, crc32 differ from the write's); the data after it is as written.
  // phyr's header holds no time, so its expected block is the written one, byte for byte.
  t.ok(fd.get('8192.expected')?.subarray(40).equals(fOrig.subarray(40)), 'fio\'s expected is its block as written after its header');
  const diff = (a: Buffer, b: Buffer) => [...a.keys()].filter((i) => a[i] !== b[i]);
  t.same(diff(pd.get('8192.received') ?? Buffer.alloc(4096), pd.get('8192.expected') ?? Buffer.alloc(0)), [100], 'the two files differ in the changed byte only');
  // A block changed on its way back (the emulator's corrupt fault): the same pair of files.
  fs.rmSync(phyrDir, { recursive: true, force: true });
  fs.mkdirSync(phyrDir);
  const c = spawnIn(phyrDir, process.execPath, ['--no-warnings', PHYR_CLI, 'bench', 'emu:backend=ram,size=64M,faults=corrupt:lba=24:byte=100', '--name=c', '--rw=write', '--bs=4k', '--size=64k', '--verify=crc32c', '--verify_interval=4k', '--verify_dump=1', '--eta=never']);
  t.equal(c.status, 1, c.stderr);
  const cd = dumps(phyrDir);
  t.same([...cd.keys()].sort(), ['12288.expected', '12288.received'], 'LBA 24 of 512-byte blocks: its 4 KiB interval at byte 12288');
  t.same(diff(cd.get('12288.received') ?? Buffer.alloc(4096), cd.get('12288.expected') ?? Buffer.alloc(0)), [100], 'the inverted byte is the one difference');
});

t.test('verify_dump=0, fio\'s default: a failure writes no file', async (t) => {
  fresh();
  const base = ['--name=d', '--rw=write', '--bs=4k', '--size=4k', '--verify=pattern'];
  t.equal(fio([...base, '--verify_pattern=0xaa', '--do_verify=0']).status, 0);
  t.equal(phyr([...base, '--verify_pattern=0xaa', '--do_verify=0']).status, 0);
  for (const extra of [[], ['--verify_dump=0']]) {
    const f = fio([...base, '--verify_pattern=0xbb', '--verify_only', ...extra]);
    const p = phyr([...base, '--verify_pattern=0xbb', '--verify_only', ...extra]);
    t.not(f.status, 0);
    t.equal(p.status, 1, 'the job still fails');
    t.same([...dumps(fioDir).keys()], [], `fio ${extra.join(' ') || '(default)'}: no dump`);
    t.same([...dumps(phyrDir).keys()], [], `phyr ${extra.join(' ') || '(default)'}: no dump`);
    t.notMatch(p.stderr, /dumped as/);
  }
});
