// The vectors= key of the embedded controller: the MSI-X table size in config space, the
// count enableMsix accepts, and Create IO CQ's interrupt vector check follow it.
import t from 'tap';
import { EmuArena, openEmu } from '../../emu';
import { RawController } from '../../conformance/raw-queue';
import { msixTableSize } from '../../conformance/check';
import { NVME } from '../../spec/nvme';

t.test('vectors=1: one MSI-X vector, IV 1 is invalid', async (t) => {
  const fn = openEmu('emu:size=1M,queues=4,vectors=1');
  const mem = new EmuArena(fn);
  const raw = new RawController(fn, mem, { timeoutMs: 2000 });
  try {
    t.equal(msixTableSize(fn), 1, 'MSI-X table size 1 in config space');
    t.throws(() => fn.enableMsix(2), /vector count 2 is out of range/);
    t.equal(await raw.enable(), 'ready');
    await raw.setNumberOfQueues(1, 1);
    const cq = raw.alloc(4096);
    const create = (iv: number) => raw.adminCommand({ opcode: NVME.ADMIN_CREATE_CQ, dptr1: cq.iova, cdw10: 1 | (7 << 16), cdw11: (3 | (iv << 16)) >>> 0 });
    t.equal((await create(1)).status & NVME.STATUS_SC_MASK, NVME.SC_INVALID_INTERRUPT_VECTOR, 'IV 1: Invalid Interrupt Vector');
    t.equal((await create(0)).status, 0, 'IV 0 is fine');
  } finally {
    await raw.close();
    mem.close();
    fn.close();
  }
});

t.test('without vectors=, one vector per queue plus the admin one', async (t) => {
  const fn = openEmu('emu:size=1M,queues=4');
  try {
    t.equal(msixTableSize(fn), 5);
  } finally {
    fn.close();
  }
});
