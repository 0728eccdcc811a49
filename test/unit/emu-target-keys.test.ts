// Every key of the emu target, given wrong, huge, fractional, empty, zero and duplicated
// values: each is refused with an EmuTargetError naming the key; nothing reaches the
// native device unchecked (an accepted edge value opens a device). Keys that mean a cap
// or a latency refuse 0 alike (leave the key out for none).
import t from 'tap';
import { EMU_KEYS, EmuTargetError, parseEmuTarget } from '../../emu/target';
import { openEmu } from '../../emu';

const BAD: Record<string, string[]> = {
  backend: ['', 'disk', 'RAM', 'file:', 'file', 'null ', ' ram'],
  ns: ['', '0', '1025', '1.5', '-1', 'x', '1e3', '99999999999999999999', ' 1'],
  lbads: ['', '10', '9.0', '0', '4096', 'x'],
  size: ['', '0', '1000', '1.5G', '-1G', 'x', '99999999999T', '65T', '1G ', ' 1G', '1Q'],
  queues: ['', '0', '1025', '2.5', '-1', 'x'],
  qsize: ['', '0', '1', '65537', '2.5', 'x'],
  vectors: ['', '0', '2049', '1.5', 'x'],
  cmbsz: ['', 'bogus', 'sqs+', 'sqs+sqs', 'SQS', 'none+sqs'],
  mdts: ['', '16', '1.5', '-1', 'x'],
  sgl: ['', 'yes', 'ON', '1', 'true'],
  dbbuf: ['', 'yes', 'ON', '1', 'true'],
  shared: ['', 'yes', 'ON', '1', 'true', 'memfd'],
  cmb: ['', '1000', '2G', '1.5M', '-4K', 'x', 'on'],
  latency: ['', '0', '0ns', '80', 'fast', '-5us', '100us-60us', '1us-', 'exp:', 'exp:0us', '0us-0us', '1100s', '99999999999s', '1.5'],
  iops: ['', '0', '1000000001', '1.5', '-1', 'x', '1e9'],
  bw: ['', '0', '0G', '2P', '1.5G', '-1', 'x', '99999999999T'],
  inflight: ['', '0', '65537', '1.5', '-1', 'x'],
  faults: ['', '+', 'fail:nth=1+', '+cfs', 'nope', 'constructor', 'toString', '__proto__', 'fail', 'fail:nth=0', 'fail:nth=1.5', 'fail:nth=1:nth=2', 'fail:op=constructor:nth=1', 'cfs:after=0', 'remove:after=-1', 'corrupt:lba=99999999', 'delay:time=1100s', 'delay:time=0.5'],
  serial: ['', 'x'.repeat(21), 'a b', 'é'],
};

t.test('every key has bad values in this table', async (t) => {
  for (const key of Object.keys(EMU_KEYS)) t.ok(BAD[key]?.length, `${key} is tried`);
});

t.test('bad values: typed error naming the key', async (t) => {
  let tried = 0;
  for (const [key, values] of Object.entries(BAD)) {
    for (const v of values) {
      const target = `emu:${key}=${v}`;
      const err = t.throws(() => parseEmuTarget(target), EmuTargetError, target) as EmuTargetError;
      t.equal(err?.code, 'PHYR_BAD_EMU_TARGET', `${target}: code`);
      t.equal(err?.key, key, `${target}: names the key`);
      t.match(err?.message, new RegExp(`\\b${key}\\b`), `${target}: the message names ${key}`);
      tried++;
    }
    // Duplicated, with a valid value each time.
    const good: Record<string, string> = { backend: 'ram', ns: '1', lbads: '9', size: '1M', queues: '2', qsize: '64', vectors: '1', mdts: '5', sgl: 'on', dbbuf: 'on', shared: 'on', cmb: '64K', cmbsz: 'sqs', latency: '1us', iops: '100', bw: '1G', inflight: '4', faults: 'clear', serial: 'AB' };
    const dup = `emu:${key}=${good[key]},${key}=${good[key]}`;
    t.throws(() => parseEmuTarget(dup), { code: 'PHYR_BAD_EMU_TARGET', key, message: /given twice/ }, dup);
    tried++;
  }
  t.comment(`target values tried: ${tried}`);
});

t.test('keys that are not options, and non-strings', async (t) => {
  for (const k of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'SIZE', 'size ']) {
    t.throws(() => parseEmuTarget(`emu:${k}=1`), { code: 'PHYR_BAD_EMU_TARGET', message: /unknown key/ }, k);
  }
  for (const v of [123, null, undefined, {}, ['emu']]) {
    t.throws(() => parseEmuTarget(v as unknown as string), { code: 'PHYR_BAD_EMU_TARGET', message: /must be a string/ }, String(v));
  }
});

t.test('zero means none nowhere: cap and latency keys refuse it alike', async (t) => {
  for (const k of ['iops', 'bw', 'inflight', 'latency']) {
    const zero = `emu:${k}=${k === 'latency' ? '0ns' : k === 'bw' ? '0K' : '00'}`;
    t.throws(() => parseEmuTarget(zero), { code: 'PHYR_BAD_EMU_TARGET', key: k, message: new RegExp(`\\b${k}\\b`) }, `${zero}: refused too`);
    t.throws(() => parseEmuTarget(`emu:${k}=0`), { code: 'PHYR_BAD_EMU_TARGET', key: k, message: /must be positive; leave .* out for none|expected an integer 1\.\.|expected a duration/ }, `${k}=0 refused`);
  }
  t.equal(parseEmuTarget('emu').bandwidth, undefined, 'no bw key: no cap');
  t.equal(parseEmuTarget('emu').iops, undefined, 'no iops key: no cap');
});

t.test('edge values that parse are accepted by the device too', async (t) => {
  for (const target of [
    'emu:backend=null,ns=1024,size=4K',
    'emu:backend=null,queues=1024,qsize=65536,mdts=15',
    'emu:backend=null,mdts=0,lbads=12,size=4K',
    'emu:backend=null,cmb=1G',
    'emu:backend=null,latency=1099s,iops=1000000000,bw=1P,inflight=65536',
    'emu:backend=null,latency=0us-1us',
    'emu:backend=null,latency=exp:1ns',
    'emu:backend=null,faults=fail:nth=9007199254740991+remove:after=9007199254740991+delay:time=1099s',
    'emu:backend=null,serial=' + '~'.repeat(20),
  ]) {
    const fn = openEmu(target);
    fn.close();
    t.pass(target);
  }
});
