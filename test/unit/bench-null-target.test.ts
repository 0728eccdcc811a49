// The null target's grammar (bench/cli/null-target.ts) and its kind (targets/index.ts):
// `null` is a 1 TiB namespace of 512-byte blocks; keys change the size and LBA size; the
// commands that need a controller refuse it.
import t from 'tap';
import { describeNullTarget, NULL_TARGET_DEFAULTS, parseNullTarget } from '../../bench/cli/null-target';
import { openPciFunction, targetKind } from '../../targets';
import { checkTarget } from '../../targets/check';

t.test('null and its keys', async (t) => {
  t.same(parseNullTarget('null'), { bytes: 2 ** 40, lbaSize: 512 }, 'the documented default: 1 TiB of 512 B blocks');
  t.same(NULL_TARGET_DEFAULTS, { bytes: 2 ** 40, lbaSize: 512 });
  t.same(parseNullTarget('null:size=1g'), { bytes: 2 ** 30, lbaSize: 512 });
  t.same(parseNullTarget('null:size=64m,lbads=12'), { bytes: 64 << 20, lbaSize: 4096 });
  t.same(parseNullTarget('null:lbads=12,size=0x100000'), { bytes: 1 << 20, lbaSize: 4096 });
  t.throws(() => parseNullTarget('null:'), { code: 'PHYR_BENCH_BAD_TARGET', message: /'' is not key=value/ });
  t.throws(() => parseNullTarget('null:size=-1'), { code: 'PHYR_BENCH_BAD_TARGET' });
  t.throws(() => parseNullTarget('null:size=1.5g'), { code: 'PHYR_BENCH_BAD_TARGET' });
  t.throws(() => parseNullTarget('null:size=4k,lbads=12,size=8k'), /size is given twice/);
  t.throws(() => parseNullTarget('null:size=2k,lbads=12'), /size=2048: must be a non-zero multiple of the LBA size \(4096 bytes\)/);
  t.match(describeNullTarget(parseNullTarget('null')), /^no device: .*1099511627776-byte namespace of 512-byte blocks/);
});

t.test('the null kind: only phyr bench runs on it', async (t) => {
  t.equal(targetKind('null'), 'null');
  t.equal(targetKind('null:size=1g'), 'null');
  t.throws(() => targetKind('nullx'), { code: 'PHYR_BAD_TARGET' });
  t.throws(() => openPciFunction('null'), { code: 'PHYR_BAD_TARGET', message: /device-less target \(no controller, no PCI function\)/ });
  t.throws(() => checkTarget('null:size=1g'), { code: 'PHYR_BAD_TARGET', message: /only `phyr bench` runs on it/ });
});
