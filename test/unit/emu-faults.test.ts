// The fault spec parser (emu/faults.ts): the corrupt rule's grammar, its defaults, its
// errors, and its check against the namespace geometry (also through target strings).
import t from 'tap';
import { checkFaultFits, parseFault } from '../../emu/faults';
import { EmuTargetError, parseEmuTarget } from '../../emu/target';

t.test('corrupt: parsed with its defaults', async (t) => {
  t.same(parseFault('corrupt:lba=100'), { kind: 'corrupt', lba: 100, nth: 1, byte: 0 });
  t.same(parseFault('corrupt:lba=0:nsid=3:nth=5:byte=4095'), { kind: 'corrupt', lba: 0, nsid: 3, nth: 5, byte: 4095 });
  t.same(parseFault('corrupt:byte=7:lba=9007199254740991'), { kind: 'corrupt', lba: Number.MAX_SAFE_INTEGER, nth: 1, byte: 7 }, 'any order');
});

t.test('corrupt: bad specs name what is wrong', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['corrupt', /corrupt needs lba=L/],
    ['corrupt:nth=2', /corrupt needs lba=L/],
    ['corrupt:lba=-1', /lba=-1 must be an integer 0\.\./],
    ['corrupt:lba=1.5', /lba=1\.5 must be an integer/],
    ['corrupt:lba=0x10', /lba=0x10 must be an integer/],
    ['corrupt:lba=', /lba= must be an integer/],
    ['corrupt:lba=1:byte=4096', /byte=4096 must be an integer 0\.\.4095/],
    ['corrupt:lba=1:byte=x', /byte=x must be an integer/],
    ['corrupt:lba=1:nth=0', /nth=0 must be an integer 1\.\./],
    ['corrupt:lba=1:nsid=0', /nsid=0 must be an integer 1\.\.4294967294/],
    ['corrupt:lba=1:nsid=4294967295', /nsid=4294967295 must be an integer/],
    ['corrupt:lba=1:op=read', /'op=read' is not a parameter of corrupt \(lba, nsid, nth, byte\)/],
    ['corrupt:lba=1:status=0x281', /'status=0x281' is not a parameter of corrupt/],
    ['corrupt:lba', /'lba' is not a parameter of corrupt/],
  ];
  for (const [spec, re] of bad) {
    const err = t.throws(() => parseFault(spec), re, spec) as unknown;
    t.type(err, EmuTargetError, `${spec}: a typed error`);
    t.match((err as Error).message, /corrupt:lba=L\[:nsid=N\]\[:nth=N\]\[:byte=B\]/, `${spec}: the message lists the grammar`);
  }
});

t.test('checkFaultFits: the byte in one block, the LBA and nsid in the namespaces', async (t) => {
  const g512 = { lbads: 9, nsBytes: 1 << 20, namespaces: 2 };
  const fits = (spec: string, g = g512): void => checkFaultFits(spec, parseFault(spec), g);
  fits('corrupt:lba=2047:byte=511:nsid=2');
  t.throws(() => fits('corrupt:lba=1:byte=512'), /byte=512 must be below the LBA size \(512 bytes\)/);
  fits('corrupt:lba=1:byte=4095', { lbads: 12, nsBytes: 1 << 20, namespaces: 1 });
  t.throws(() => fits('corrupt:lba=2048'), /lba=2048 is past the end of the namespace \(2048 blocks\)/);
  t.throws(() => fits('corrupt:lba=1:nsid=3'), /nsid=3: the controller has 2 namespace\(s\)/);
  fits('fail:lba=999999', g512); // only corrupt rules are checked here
  t.pass('rules that fit are accepted');
});

t.test('target strings carry corrupt rules, checked against lbads and size', async (t) => {
  t.same(parseEmuTarget('emu:backend=ram,faults=corrupt:lba=100').faults, ['corrupt:lba=100']);
  t.same(parseEmuTarget('emu:faults=corrupt:lba=1:byte=4000+fail:nth=9,lbads=12').faults, ['corrupt:lba=1:byte=4000', 'fail:nth=9'], 'lbads may follow faults');
  t.throws(() => parseEmuTarget('emu:faults=corrupt:lba=1:byte=4000'), /byte=4000 must be below the LBA size \(512 bytes\)/);
  t.throws(() => parseEmuTarget('emu:size=1M,faults=corrupt:lba=1M'), /lba=1M must be an integer/);
  t.throws(() => parseEmuTarget('emu:size=64K,faults=corrupt:lba=128'), /lba=128 is past the end of the namespace \(128 blocks\)/);
  t.throws(() => parseEmuTarget('emu:faults=corrupt'), { name: 'EmuTargetError', message: /corrupt needs lba=L/ });
});

t.test('cfs:sticky: a bare flag, never with after=', async (t) => {
  t.same(parseFault('cfs:sticky'), { kind: 'cfs', sticky: true, after: 0 });
  t.same(parseFault('cfs'), { kind: 'cfs', after: 0 }, 'plain cfs is not sticky');
  const bad: Array<[string, RegExp]> = [
    ['cfs:sticky=1', /sticky takes no value \(write 'cfs:sticky'\)/],
    ['cfs:sticky:after=3', /cannot be combined with after=/],
    ['cfs:sticky:sticky', /sticky= is given twice/],
    ['cfs:after', /'after' is not a parameter of cfs \(after, sticky\)/],
    ['remove:sticky', /'sticky' is not a parameter of remove/],
  ];
  for (const [spec, re] of bad) {
    const err = t.throws(() => parseFault(spec), re, spec) as unknown;
    t.type(err, EmuTargetError, `${spec}: a typed error`);
  }
});
