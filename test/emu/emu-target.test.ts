// The emulated controller's target-string parser.
import t from 'tap';
import { EMU_DEFAULTS, EMU_KEYS, EmuTargetError, parseDuration, parseEmuTarget, parseLatency, parseSize } from '../../emu/target';
import { NVME } from '../../spec/nvme';

t.test('defaults', async (t) => {
  t.same(parseEmuTarget('emu'), { ...EMU_DEFAULTS, faults: [] });
  t.same(parseEmuTarget('emu:'), { ...EMU_DEFAULTS, faults: [] });
});

t.test('every key parses', async (t) => {
  const o = parseEmuTarget(
    'emu:backend=null,ns=2,lbads=12,size=1G,queues=8,qsize=256,mdts=5,sgl=dword,cmb=16M,cmbsz=sqs+cqs,latency=80us,iops=1000,bw=2G,inflight=32,faults=fail:nth=10+drop:nth=5,serial=ABC',
  );
  t.equal(o.backend, 'null');
  t.equal(o.namespaces, 2);
  t.equal(o.lbads, 12);
  t.equal(o.nsBytes, 2 ** 30);
  t.equal(o.queues, 8);
  t.equal(o.qsize, 256);
  t.equal(o.mdts, 5);
  t.equal(o.sgl, 'dword');
  t.equal(o.cmbBytes, 16 * 2 ** 20);
  t.equal(o.cmbSupport, NVME.CMBSZ_SQS | NVME.CMBSZ_CQS);
  t.same(o.latency, { kind: 'fixed', ns: 80000 });
  t.equal(o.iops, 1000);
  t.equal(o.bandwidth, 2 * 2 ** 30);
  t.equal(o.inflight, 32);
  t.same(o.faults, ['fail:nth=10', 'drop:nth=5']);
  t.equal(o.serial, 'ABC');
  const f = parseEmuTarget('emu:backend=file:/tmp/x.img');
  t.equal(f.backend, 'file');
  t.equal(f.path, '/tmp/x.img');
  t.equal(parseEmuTarget('emu:cmb=off').cmbBytes, 0);
});

t.test('sizes, durations, latency models', async (t) => {
  t.equal(parseSize('4096'), 4096);
  t.equal(parseSize('512K'), 512 * 1024);
  t.equal(parseSize('2T'), 2 * 2 ** 40);
  t.equal(parseSize('1GiB'), 2 ** 30);
  t.throws(() => parseSize('1.5G'), EmuTargetError);
  t.throws(() => parseSize('99999999999T'), /too large/);
  t.equal(parseDuration('500ns'), 500);
  t.equal(parseDuration('1.5ms'), 1.5e6);
  t.equal(parseDuration('2s'), 2e9);
  t.throws(() => parseDuration('80'), /expected a duration/);
  t.same(parseLatency('60us-100us'), { kind: 'uniform', minNs: 60000, maxNs: 100000 });
  t.same(parseLatency('exp:80us'), { kind: 'exponential', meanNs: 80000 });
  t.throws(() => parseLatency('100us-60us'), /upper bound/);
});

t.test('unknown keys and bad values are rejected with the valid ones listed', async (t) => {
  const err = (() => {
    try {
      parseEmuTarget('emu:bogus=1');
    } catch (e) {
      return e as EmuTargetError;
    }
    return undefined;
  })();
  t.ok(err instanceof EmuTargetError);
  t.equal(err?.code, 'PHYR_BAD_EMU_TARGET');
  t.equal(err?.key, 'bogus');
  for (const key of Object.keys(EMU_KEYS)) t.match(err?.message, new RegExp(`\\b${key} \\(`), `lists ${key}`);
  const bad: [string, RegExp][] = [
    ['emu:backend=disk', /expected nodata \(moves no data\), null \(reads zeros\), ram or file:PATH/],
    ['emu:backend=file:', /expected nodata \(moves no data\), null \(reads zeros\), ram or file:PATH/],
    ['emu:ns=0', /ns=0: expected an integer 1..1024/],
    ['emu:lbads=10', /expected 9 .* or 12/],
    ['emu:size=1000', /multiple of the LBA size \(512 bytes\)/],
    ['emu:size=1000,lbads=12', /multiple of the LBA size \(4096 bytes\)/],
    ['emu:queues=x', /queues=x/],
    ['emu:qsize=1', /2..65536/],
    ['emu:mdts=16', /0..15/],
    ['emu:sgl=yes', /expected off, on/],
    ['emu:cmb=1000', /multiple of 4K/],
    ['emu:latency=fast', /expected a duration/],
    ['emu:serial=' + 'x'.repeat(21), /1..20 printable/],
    ['emu:ns=2,ns=3', /given twice/],
    ['emu:ns', /not key=value/],
    ['nvme', /not an emulated-controller target/],
    ['emu:ns=1024,size=1T', /64T/],
  ];
  for (const [target, re] of bad) t.throws(() => parseEmuTarget(target), re, target);
});
