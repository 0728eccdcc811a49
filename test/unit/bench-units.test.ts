// fio's size and time syntax, table-driven against fio's documented examples.
import t from 'tap';
import { formatBytesFio, parseBool, parseBytes, parseInteger, parseSize, parseTimeNs, sizeSuffixMultiplier } from '../../bench/cli/units';
import { BenchOptionError } from '../../bench/cli/errors';

t.test('sizes follow fio (kb_base=1024): k = ki = 1024, kib = 1000', async (t) => {
  const table: Array<[string, number]> = [
    ['4096', 4096], ['4096b', 4096], ['4096B', 4096],
    ['4k', 4096], ['4kb', 4096], ['4kB', 4096], ['4K', 4096], ['4KB', 4096],
    ['1m', 1048576], ['1024k', 1048576], ['1M', 1048576],
    ['1mi', 1048576], ['24mi', 25165824], ['4ki', 4096], ['1000kib', 1000000], ['1MiB', 1000000], ['4KiB', 4000],
    ['1g', 2 ** 30], ['2t', 2 * 2 ** 40], ['1p', 2 ** 50],
    ['0x1000', 4096], ['0x10k', 16 * 1024], ['128KB', 131072], ['0', 0],
  ];
  for (const [text, bytes] of table) t.equal(parseBytes('bs', text), bytes, text);
});

t.test('percent sizes only where allowed; bad sizes are named', async (t) => {
  t.same(parseSize('size', '50%', true), { percent: 50 });
  t.throws(() => parseSize('bs', '50%'), BenchOptionError);
  t.throws(() => parseSize('size', '150%', true), /0\.\.100/);
  for (const bad of ['', 'k', '4x', '1.5g', '-4k', '4 k b', '4kk', '4kib b']) {
    t.throws(() => parseBytes('bs', bad), BenchOptionError, bad);
  }
  t.throws(() => parseBytes('size', '99999999p'), /too large/);
  t.throws(() => parseBytes('bs', '4q'), { message: /--bs=4q: unknown size suffix 'q'/, code: 'PHYR_BENCH_BAD_OPTION' });
  t.equal(sizeSuffixMultiplier('zz'), undefined);
});

t.test('times: bare numbers in the default unit, fio suffixes', async (t) => {
  const table: Array<[string, 's' | 'ms' | 'us', number]> = [
    ['10', 's', 10e9], ['10s', 's', 10e9], ['10sec', 's', 10e9], ['500ms', 's', 500e6], ['500msec', 's', 500e6],
    ['250us', 's', 250e3], ['250usec', 's', 250e3], ['2m', 's', 120e9], ['2min', 's', 120e9], ['1h', 's', 3600e9],
    ['1d', 's', 86400e9], ['5', 'ms', 5e6], ['7', 'us', 7e3], ['3S', 's', 3e9], ['100ns', 's', 100],
  ];
  for (const [text, unit, ns] of table) t.equal(parseTimeNs('runtime', text, unit), ns, text);
  t.throws(() => parseTimeNs('runtime', '10y'), /unknown time unit/);
  t.throws(() => parseTimeNs('runtime', 'soon'), BenchOptionError);
});

t.test('integers and booleans', async (t) => {
  t.equal(parseInteger('iodepth', '32', 1, 64), 32);
  t.equal(parseInteger('iodepth', '0x20', 1, 64), 32);
  t.throws(() => parseInteger('iodepth', '0', 1, 64), /between 1 and 64/);
  t.throws(() => parseInteger('iodepth', '4k', 1, 1 << 20), /plain integer/);
  for (const v of [undefined, '', '1', 'true', 'yes', 'on']) t.equal(parseBool('x', v), true);
  for (const v of ['0', 'false', 'no', 'off']) t.equal(parseBool('x', v), false);
  t.throws(() => parseBool('x', 'maybe'), /expected 0 or 1/);
  t.equal(formatBytesFio(4096), '4KiB');
  t.equal(formatBytesFio(512), '512B');
  t.equal(formatBytesFio(3 * 1024 * 1024), '3MiB');
  t.equal(formatBytesFio(6144), '6KiB');
  t.equal(formatBytesFio(1000), '1000B');
});
