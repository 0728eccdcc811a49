// Hostile NVMe/TCP peers against the target (fabrics/): seeded streams of mutated PDUs
// (headers, lengths past the limits, wrong digests, unknown opcodes, H2CData out of order),
// half-open connections that stop in the middle of a PDU, and a storm of connects, all on
// one subsystem — while a bystander host on another subsystem writes and reads back its own
// data. The target must answer each with an error PDU, a status or a closed connection;
// never crash (an uncaught error ends this process), never stall the bystander, never leave
// an association behind, and never change the bystander's blocks.
import t from 'tap';
import { controllerBackend } from '../../fabrics/backend';
import { TcpTarget } from '../../fabrics/target';
import { NVME } from '../../spec/nvme';
import { NVMF, NVME_TCP as T } from '../../spec/nvmf';
import { open } from '../../targets/open';
import { FabricTestHost, connectCommand, propertyCommand, sqe } from '../helpers/fabric-host';

const SAFE = 'nqn.2026-12.dev.phyr:bystander';
const PREY = 'nqn.2026-12.dev.phyr:prey';
const HOST = 'nqn.2026-12.dev.phyr:host';
const ROUNDS = 150;

let seed = 0x2545f491;
const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
const pick = <X>(xs: X[]): X => xs[Math.floor(rnd() * xs.length)];

async function adminAndIo(port: number, subnqn: string): Promise<{ admin: FabricTestHost; io: FabricTestHost }> {
  const admin = await FabricTestHost.connect(port);
  await admin.icReq();
  const c = connectCommand(0, 31, 0, subnqn, HOST);
  const r = await admin.command(c.sqe, { inCapsule: c.data });
  if (r.status !== 0) throw new Error(`admin Connect to ${subnqn}: status 0x${r.status.toString(16)}`);
  await admin.command(propertyCommand(NVMF.FCTYPE_PROPERTY_SET, NVME.REG_CC, false, 0x460001));
  await admin.command(sqe(NVME.ADMIN_SET_FEATURES, 0, { 10: NVME.FEAT_NUMBER_OF_QUEUES, 11: 0x10001 }));
  const io = await FabricTestHost.connect(port);
  await io.icReq();
  const ic = connectCommand(1, 63, 0, subnqn, HOST, r.dw0);
  const ir = await io.command(ic.sqe, { inCapsule: ic.data });
  if (ir.status !== 0) throw new Error(`IO Connect: status 0x${ir.status.toString(16)}`);
  return { admin, io };
}

// A valid capsule (write with in-capsule data) as raw bytes, for mutation.
function rawWrite(cid: number, lba: number, data: Buffer): Buffer {
  const h = Buffer.alloc(T.HLEN_CAPSULE_CMD);
  h[0] = T.PDU_CAPSULE_CMD;
  h[2] = T.HLEN_CAPSULE_CMD;
  h[3] = T.HLEN_CAPSULE_CMD;
  h.writeUInt32LE(T.HLEN_CAPSULE_CMD + data.length, 4);
  const s = sqe(NVME.IO_WRITE, 1, { 10: lba, 12: data.length / 512 - 1 });
  s.writeUInt16LE(cid, 2);
  s[1] = 0x40;
  s.writeUInt32LE(data.length, 32);
  s[39] = NVMF.SGL_ID_DATA_OFFSET;
  s.copy(h, 8);
  return Buffer.concat([h, data]);
}

function rawH2c(cid: number, ttag: number, offset: number, data: Buffer): Buffer {
  const h = Buffer.alloc(T.HLEN_DATA);
  h[0] = T.PDU_H2C_DATA;
  h[1] = T.FLAG_LAST_PDU;
  h[2] = T.HLEN_DATA;
  h[3] = T.HLEN_DATA;
  h.writeUInt32LE(T.HLEN_DATA + data.length, 4);
  h.writeUInt16LE(cid, T.DATA_CCCID);
  h.writeUInt16LE(ttag, T.DATA_TTAG);
  h.writeUInt32LE(offset, T.DATA_OFFSET);
  h.writeUInt32LE(data.length, T.DATA_LENGTH);
  return Buffer.concat([h, data]);
}

t.test('hostile peers on one subsystem leave the target and another subsystem\'s host unharmed', async (t) => {
  const safeCtrl = await open('emu:size=8M');
  const preyCtrl = await open('emu:size=8M');
  t.teardown(async () => {
    await safeCtrl.close();
    await preyCtrl.close();
  });
  const target = await TcpTarget.listen({
    port: 0,
    subsystems: [
      { nqn: SAFE, backend: await controllerBackend(safeCtrl), allowHosts: [HOST] },
      { nqn: PREY, backend: await controllerBackend(preyCtrl), allowHosts: 'any' },
    ],
  });
  t.teardown(() => target.close());
  const port = target.address.port;
  const lbaSize = safeCtrl.namespace(1).lbaSize;

  // The bystander: writes a pattern to LBAs 0..63 of its own subsystem and keeps reading
  // it back while the hostile rounds run.
  const by = await adminAndIo(port, SAFE);
  t.teardown(() => (by.admin.close(), by.io.close()));
  const pattern = (lba: number) => Buffer.alloc(lbaSize, (lba * 13 + 7) & 0xff);
  for (let lba = 0; lba < 64; lba++) {
    const w = await by.io.command(sqe(NVME.IO_WRITE, 1, { 10: lba, 12: 0 }), { inCapsule: pattern(lba) });
    if (w.status !== 0) t.fail(`bystander write ${lba}: 0x${w.status.toString(16)}`);
  }
  let stop = false;
  let checks = 0;
  let slowest = 0;
  const bystander = (async () => {
    while (!stop) {
      const lba = checks % 64;
      const t0 = Date.now();
      const r = await by.io.command(sqe(NVME.IO_READ, 1, { 10: lba, 12: 0 }), { readBytes: lbaSize });
      slowest = Math.max(slowest, Date.now() - t0);
      if (r.status !== 0 || !r.data.equals(pattern(lba))) throw new Error(`bystander read of LBA ${lba}: status 0x${r.status.toString(16)}, data ${r.data.equals(pattern(lba)) ? 'right' : 'wrong'}`);
      checks++;
    }
  })();

  const outcomes = { termReq: 0, closedQuietly: 0, answered: 0, stalledThenDropped: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const kind = pick(['mutated-capsule', 'mutated-h2c', 'garbage', 'half-open', 'admin-junk']);
    let h: FabricTestHost;
    if (kind === 'mutated-capsule' || kind === 'mutated-h2c') {
      const pair = await adminAndIo(port, PREY);
      pair.admin.close();
      h = pair.io;
      h.strict = false;
      const b = kind === 'mutated-capsule' ? rawWrite(900 + round, Math.floor(rnd() * 64), Buffer.alloc(512 * (1 + Math.floor(rnd() * 8)), 0xee)) : rawH2c(900 + round, Math.floor(rnd() * 4), Math.floor(rnd() * 8192), Buffer.alloc(512 * (1 + Math.floor(rnd() * 4)), 0xdd));
      for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) b[Math.floor(rnd() * Math.min(b.length, 80))] = Math.floor(rnd() * 256);
      h.sendRaw(b);
    } else if (kind === 'admin-junk') {
      h = await FabricTestHost.connect(port);
      h.strict = false;
      await h.icReq(pick([0, T.DGST_HEADER, T.DGST_HEADER | T.DGST_DATA]));
      const c = connectCommand(0, Math.floor(rnd() * 300), Math.floor(rnd() * 10), PREY, HOST, pick([NVMF.CNTLID_DYNAMIC, 0, 5]));
      if (rnd() < 0.5) c.data[Math.floor(rnd() * c.data.length)] ^= 0xff;
      await Promise.race([h.command(c.sqe, { inCapsule: c.data }), h.closed]);
      // An opcode nobody defined, then an Identify with a CNS nobody defined.
      await Promise.race([h.command(sqe(0xfe, 0)), h.closed]);
      await Promise.race([h.command(sqe(NVME.ADMIN_IDENTIFY, 0, { 10: 0xff }), { readBytes: 4096 }), h.closed]);
      outcomes.answered++;
    } else if (kind === 'half-open') {
      h = await FabricTestHost.connect(port);
      await h.icReq();
      // The first half of a capsule, then silence.
      h.sendRaw(rawWrite(1, 0, Buffer.alloc(512)).subarray(0, 40));
    } else {
      h = await FabricTestHost.connect(port);
      h.sendRaw(Buffer.from(Array.from({ length: 8 + Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256))));
    }
    const ended = await Promise.race([h.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 300))]);
    if (ended) {
      if (h.term) outcomes.termReq++;
      else outcomes.closedQuietly++;
    } else if (kind !== 'admin-junk') outcomes.stalledThenDropped++;
    h.close();
  }

  // A storm: 60 admin connects at once, each closed at once.
  const storm = await Promise.all(Array.from({ length: 60 }, () => adminAndIo(port, PREY).catch((e: Error) => e)));
  const stormOk = storm.filter((s) => !(s instanceof Error)).length;
  for (const s of storm) if (!(s instanceof Error)) (s.admin.close(), s.io.close());

  stop = true;
  await bystander;
  t.ok(checks > 0, `the bystander verified ${checks} reads during the rounds; its slowest took ${slowest} ms`);
  t.ok(slowest < 5000, 'no hostile peer stalled the bystander for seconds');
  for (let lba = 0; lba < 64; lba++) {
    const r = await by.io.command(sqe(NVME.IO_READ, 1, { 10: lba, 12: 0 }), { readBytes: lbaSize });
    if (!r.data.equals(pattern(lba))) t.fail(`the bystander's LBA ${lba} changed`);
  }
  t.pass(`the bystander's 64 blocks are as written after ${ROUNDS} hostile rounds (${JSON.stringify(outcomes)})`);
  t.equal(stormOk, 60, 'all 60 connects of the storm were served');
  // Closed connections end their associations: only the bystander's is left.
  const deadline = Date.now() + 5000;
  while (target.associations > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.equal(target.associations, 1, 'every hostile association is gone; the bystander\'s remains');
  t.ok(outcomes.termReq > 0, 'some rounds were answered with a C2HTermReq');
});
