// The self-test faults (emu/faults.ts): answer's grammar, defaults and errors; on the
// embedded controller, a matched command is not executed and completes with the given
// status and dw0 while an unmatched one runs as usual; unchecked skips one enable check.
import t from 'tap';
import { parseFault } from '../../emu/faults';
import { EmuTargetError } from '../../emu/target';
import { EmuArena, openEmu } from '../../emu';
import { RawController } from '../../conformance/raw-queue';
import { NVME } from '../../spec/nvme';

t.test('answer: parsed with its defaults', async (t) => {
  t.same(parseFault('answer:op=0x7f:qid=0'), { kind: 'answer', opcode: 0x7f, qid: 0, status: 0, nth: 1 });
  t.same(parseFault('answer:qid=1:op=read:dw=10:value=64:mask=0xff:status=0x4002:result=5:nth=2'), {
    kind: 'answer',
    opcode: NVME.IO_READ,
    qid: 1,
    nth: 2,
    status: 0x4002,
    matchDword: 10,
    matchValue: 64,
    matchMask: 0xff,
    result: 5,
  });
});

t.test('answer: bad specs name what is wrong', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['answer:qid=0', /answer needs op=O/],
    ['answer:op=1:dw=10', /dw=N and value=V go together/],
    ['answer:op=1:value=3', /dw=N and value=V go together/],
    ['answer:op=1:mask=3', /dw=N and value=V go together/],
    ['answer:op=1:dw=16:value=0', /dw=16 must be an integer 0\.\.15/],
    ['answer:op=1:status=0x8000', /status=0x8000 must be an integer 0\.\./],
    ['answer:op=1:lba=3', /'lba=3' is not a parameter of answer/],
  ];
  for (const [spec, re] of bad) {
    const err = t.throws(() => parseFault(spec), re, spec) as unknown;
    t.type(err, EmuTargetError, `${spec}: a typed error`);
  }
});

t.test('unchecked: parsed; a bad value or a run-time inject is refused', async (t) => {
  t.same(parseFault('unchecked:check=mps'), { kind: 'unchecked', check: 'mps' });
  t.same(parseFault('unchecked:check=cmbsz'), { kind: 'unchecked', check: 'cmbsz' }, 'cmbsz: the CMB accepts uses CMBSZ does not publish');
  t.throws(() => parseFault('unchecked:check=cc'), /unchecked needs check=aqa\|asq\|iosqes\|iocqes\|mps/);
  t.throws(() => parseFault('unchecked'), /unchecked needs check=/);
  const fn = openEmu('emu:size=1M');
  try {
    t.throws(() => fn.inject('unchecked:check=aqa'), /applies at creation only/);
  } finally {
    fn.close();
  }
});

t.test('unchecked: the skipped enable check lets a bad CC.EN become ready', async (t) => {
  for (const [target, want] of [['emu:size=1M,faults=unchecked:check=iosqes', 'ready'], ['emu:size=1M', 'fatal']] as const) {
    const fn = openEmu(target);
    const mem = new EmuArena(fn);
    const raw = new RawController(fn, mem, { timeoutMs: 2000 });
    try {
      t.equal(await raw.enable({ ccClear: 0xf << NVME.CC_IOSQES_SHIFT }), want, `${target}: IOSQES 0 -> ${want}`);
    } finally {
      await raw.close();
      mem.close();
      fn.close();
    }
  }
});

t.test('answer: the matched admin command completes as told, without executing', async (t) => {
  const fn = openEmu('emu:size=1M,faults=answer:qid=0:op=0x0a:dw=10:mask=0xff:value=0x7e:status=0:result=0x1234');
  const mem = new EmuArena(fn);
  const raw = new RawController(fn, mem, { timeoutMs: 2000 });
  try {
    t.equal(await raw.enable(), 'ready');
    const hit = await raw.adminCommand({ opcode: NVME.ADMIN_GET_FEATURES, cdw10: 0x7e });
    t.same({ status: hit.status, dw0: hit.dw0 }, { status: 0, dw0: 0x1234 }, 'Get Features 7Eh answered success with dw0 1234h');
    const miss = await raw.adminCommand({ opcode: NVME.ADMIN_GET_FEATURES, cdw10: 0x7d });
    t.equal(miss.status & NVME.STATUS_SC_MASK, NVME.SC_INVALID_FIELD, 'an unmatched feature still gets Invalid Field');
  } finally {
    await raw.close();
    mem.close();
    fn.close();
  }
});
