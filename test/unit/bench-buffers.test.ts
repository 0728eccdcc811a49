// fio's buffer options as phyr resolves them: the pattern syntax (fio's own examples from
// lib/pattern.c's documentation, parsed to the same bytes), and fio 3.33's fixups and flags
// (what refills, what scrambles, which fill wins), including the option-order effects of
// fio's callbacks.
import t from 'tap';
import { resolveBufferFill } from '../../bench/cli/buffers';
import { parseBenchArgs } from '../../bench/cli/config';
import { planJob } from '../../bench/cli/plan';
import { parsePattern } from '../../bench/cli/pattern';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const job = (...a: string[]) => parseBenchArgs(['--name=j', ...a]).jobs[0];
const fill = (...a: string[]) => resolveBufferFill(job(...a));
const hex = (s: string) => Buffer.from(parsePattern('buffer_pattern', s)).toString('hex');

t.test('pattern syntax: fio\'s forms give fio\'s bytes', async (t) => {
  t.equal(hex('"abcd"'), '61626364');
  t.equal(hex('-1024'), '00fcffff');
  t.equal(hex('66'), '42');
  t.equal(hex('0'), '00');
  t.equal(hex('256'), '0001');
  t.equal(hex('0xFF0X1'), 'ff01');
  t.equal(hex('0xabc'), '0abc', 'an odd digit count: the first byte takes one digit');
  t.equal(hex('"123"0xFFeeCC'), '313233ffeecc');
  t.equal(hex('-100xab"1"'), 'f6ffffffab31', 'a decimal stops where 0x begins');
  t.equal(hex('0xff0x14'), 'ff14');
  t.equal(hex('0x' + 'fe'.repeat(21)), 'fe'.repeat(21));
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-pattern-')), 'p.bin');
  fs.writeFileSync(file, Buffer.from([1, 2, 3]));
  t.equal(hex(`0xaa'${file}'"z"`), 'aa0102037a', 'a quoted file name reads the file');
  fs.rmSync(path.dirname(file), { recursive: true });
  t.equal(parsePattern('buffer_pattern', `'${'x'}'`.replace('x', '/dev/zero')).length, 512, 'a file fills what is left of 512 bytes');
  t.throws(() => parsePattern('buffer_pattern', '%o'), /%o .*verify_pattern only/);
  t.throws(() => parsePattern('buffer_pattern', '0x' + 'ab'.repeat(513)), /longer than 512 bytes/);
  t.throws(() => parsePattern('buffer_pattern', '"abc'), /no closing "/);
  t.throws(() => parsePattern('buffer_pattern', 'zz'), /not a pattern piece/);
  t.throws(() => parsePattern('buffer_pattern', '4294967296'), /outside a 32-bit signed integer/);
  t.throws(() => parsePattern('buffer_pattern', "'/nonexistent/p'"), /cannot read pattern file/);
});

t.test('fio\'s default: random data filled once, scrambled per write', async (t) => {
  t.match(fill('--rw=write'), { fillKind: 0, fillRefill: false, fillScramble: true });
  t.match(fill('--rw=write', '--scramble_buffers=0'), { fillScramble: false });
  t.match(fill('--rw=write', '--refill_buffers'), { fillRefill: true, fillScramble: false }, 'a refilled write is not scrambled');
  t.match(fill('--rw=write', '--verify=crc32c'), { fillScramble: false }, 'nor a verified one');
});

t.test('zero_buffers: zeros, and no scramble unless asked for', async (t) => {
  t.match(fill('--rw=write', '--zero_buffers'), { fillKind: 1, fillScramble: false });
  t.match(fill('--rw=write', '--zero_buffers', '--scramble_buffers=1'), { fillKind: 1, fillScramble: true });
});

t.test('buffer_pattern: pattern fill, no scramble; refill as fio decides when the option is read', async (t) => {
  t.match(fill('--rw=write', '--buffer_pattern=0xdeadbeef'), { fillKind: 2, fillScramble: false, fillRefill: false, fillPattern: [0xde, 0xad, 0xbe, 0xef] });
  // fio's callback looks at the job's direction as it stands: before rw=, that is fio's
  // default rw=read, so it refills.
  t.match(fill('--buffer_pattern=0xdeadbeef', '--rw=write'), { fillRefill: true });
  t.match(fill('--rw=randrw', '--buffer_pattern=1'), { fillRefill: true }, 'a job that reads refills its pattern');
  t.match(fill('--rw=write', '--buffer_pattern=1', '--zero_buffers'), { fillKind: 2 }, 'the pattern wins over zero_buffers, as in fio\'s fill');
});

t.test('compression and dedupe: refill unless told not to; 100 % is zeros', async (t) => {
  t.match(fill('--rw=write', '--buffer_compress_percentage=50'), { fillKind: 3, fillRefill: true, fillScramble: false, compressPercent: 50, compressChunk: 512 });
  t.match(fill('--rw=write', '--buffer_compress_percentage=50', '--refill_buffers=0'), { fillRefill: false, fillScramble: false });
  t.match(fill('--rw=write', '--buffer_compress_percentage=100'), { fillKind: 1, fillRefill: false, fillScramble: false, compressPercent: 0 });
  t.match(fill('--rw=write', '--buffer_compress_percentage=100', '--buffer_pattern=7'), { fillKind: 2 });
  t.match(fill('--rw=write', '--buffer_compress_percentage=20', '--buffer_compress_chunk=4k'), { compressChunk: 4096 });
  t.match(fill('--rw=write', '--dedupe_percentage=30'), { fillKind: 3, fillRefill: true, dedupePercent: 30, compressPercent: 0 });
  t.match(fill('--rw=write', '--dedupe_percentage=30', '--refill_buffers=0'), { fillRefill: false }, 'a later refill_buffers=0 wins, as in fio');
  t.throws(() => job('--dedupe_mode=clone'), /dedupe_mode.*expected repeat or working_set/);
  t.equal(job('--dedupe_mode=working_set', '--dedupe_working_set_percentage=7').buffers.dedupeWorkingSetPercentage, 7);
});

t.test('verify_pattern: fio\'s pattern verify with a header unless verify= was given', async (t) => {
  t.equal(job('--verify_pattern=0x11').verify, 'pattern_header');
  t.equal(job('--verify=md5', '--verify_pattern=0x11').verify, 'md5');
  t.equal(job('--verify_pattern=0x11', '--verify=pattern').verify, 'pattern');
  t.equal(job('--verify=0', '--verify_pattern=0x11').verify, 'none', 'verify=0 given: the pattern only fills');
  const ns = { nsid: 1, lbaSize: 512, blocks: 1 << 16 };
  t.match(planJob(job('--rw=write', '--verify=pattern', '--verify_pattern=0x11'), ns), { verify: true, verifyKind: 4, verifyPattern: [0x11] });
  t.match(planJob(job('--rw=write', '--verify_pattern=0x11'), ns), { verifyKind: 5 });
  t.throws(() => planJob(job('--rw=write', '--verify=pattern'), ns), /verify=pattern checks verify_pattern/);
  t.throws(() => planJob(job('--rw=write', '--mem=cmb', '--zero_buffers'), ns), /need --mem=pool/);
  t.throws(() => planJob(job('--rw=write', '--verify=crc32c', '--buffer_compress_percentage=50'), ns), /buffer_compress_percentage=50 with verify=crc32c is not supported/);
  t.doesNotThrow(() => planJob(job('--rw=write', '--verify=crc32c', '--buffer_compress_percentage=50', '--verify_pattern=1'), ns), 'with verify_pattern the blocks carry the pattern, as in fio');
  t.doesNotThrow(() => planJob(job('--rw=write', '--verify=md5', '--dedupe_percentage=50'), ns), 'fio\'s verify data is not deduped either');
});

t.test('a pattern file that is a FIFO without a writer is refused, not waited on', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-pattern-fifo-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const fifo = path.join(dir, 'fifo');
  const made = require('child_process').spawnSync('mkfifo', [fifo]);
  t.equal(made.status, 0, 'mkfifo made the FIFO');
  t.throws(() => parsePattern('buffer_pattern', `'${fifo}'`), /pattern file .* is empty/);
});
