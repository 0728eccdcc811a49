// The NVMe/TCP target (fabrics/) over the embedded controller, driven by the test host in
// test/helpers/fabric-host.ts: the bring-up a host does (ICReq, Connect, properties,
// Identify, Number of Queues), IO with data in the capsule, after an R2T and back in
// C2HData, with and without digests; and every refusal: unknown subsystem and host, IO
// queues before enable or past the queue count, a wrong controller ID, malformed PDUs.
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { controllerBackend } from '../../fabrics/backend';
import { DISCOVERY_NQN } from '../../fabrics/discovery';
import { TcpTarget } from '../../fabrics/target';
import { NVME } from '../../spec/nvme';
import { NVMF, NVME_TCP as T } from '../../spec/nvmf';
import { open } from '../../targets/open';
import { FabricTestHost, connectCommand, propertyCommand, sqe } from '../helpers/fabric-host';

const SUBNQN = 'nqn.2026-12.dev.phyr:test';
const HOSTNQN = 'nqn.2026-12.dev.phyr:host-a';
const statusOf = (sct: number, sc: number, dnr = true) => sc | (sct << 8) | (dnr ? NVME.STATUS_DNR : 0);

t.test('NVMe/TCP target on the embedded controller', async (t) => {
  const ctrl = await open('emu:size=16M');
  t.teardown(() => ctrl.close());
  const lines: string[] = [];
  const target = await TcpTarget.listen({ port: 0, subsystems: [{ nqn: SUBNQN, backend: await controllerBackend(ctrl), allowHosts: [HOSTNQN] }], log: (l) => lines.push(l) });
  t.teardown(() => target.close());
  const port = target.address.port;

  // Admin queue bring-up as a host does it (NVMe-oF §3.3, §3.4, §3.5).
  async function adminQueue(digests = 0): Promise<{ host: FabricTestHost; cntlid: number }> {
    const host = await FabricTestHost.connect(port);
    t.teardown(() => host.close());
    const ic = await host.icReq(digests);
    t.equal(ic[T.IC_DGST], digests, 'ICResp enables the digests the host asked for');
    const c = connectCommand(0, 31, 5000, SUBNQN, HOSTNQN);
    const r = await host.command(c.sqe, { inCapsule: c.data });
    t.equal(r.status, 0, 'admin Connect succeeds');
    t.ok(r.dw0 >= 1 && r.dw0 < 0xfff0, `the target assigned controller ID ${r.dw0}`);
    const cap = await host.command(propertyCommand(NVMF.FCTYPE_PROPERTY_GET, NVME.REG_CAP, true));
    t.equal(cap.dw0 & 0xffff, 127, 'CAP.MQES: 128 entries');
    t.ok(cap.dw1 & (NVME.CAP_CSS_NVM << (NVME.CAP_CSS_SHIFT - 32)), 'CAP.CSS has the NVM command set (upper dword)');
    const en = await host.command(propertyCommand(NVMF.FCTYPE_PROPERTY_SET, NVME.REG_CC, false, 0x460001));
    t.equal(en.status, 0, 'Property Set CC.EN');
    const csts = await host.command(propertyCommand(NVMF.FCTYPE_PROPERTY_GET, NVME.REG_CSTS, false));
    t.equal(csts.dw0 & NVME.CSTS_RDY, NVME.CSTS_RDY, 'CSTS.RDY follows');
    return { host, cntlid: r.dw0 };
  }

  for (const digests of [0, T.DGST_HEADER | T.DGST_DATA]) {
    await t.test(`bring-up, Identify and IO ${digests ? 'with header and data digests' : 'without digests'}`, async (t) => {
      const { host, cntlid } = await adminQueue(digests);
      const id = await host.command(sqe(NVME.ADMIN_IDENTIFY, 0, { 10: NVME.CNS_CONTROLLER }), { readBytes: 4096 });
      t.equal(id.status, 0, 'Identify Controller');
      t.equal(id.data.length, 4096, '4096 bytes in C2HData');
      t.equal(id.data.readUInt16LE(NVMF.ID_CNTLID), cntlid, 'CNTLID is the association\'s');
      t.equal(id.data[NVMF.ID_CNTRLTYPE], NVMF.CNTRLTYPE_IO, 'an I/O controller');
      t.equal(id.data.subarray(NVMF.ID_SUBNQN, NVMF.ID_SUBNQN + SUBNQN.length).toString(), SUBNQN, 'SUBNQN');
      t.equal(id.data.readUInt32LE(NVMF.ID_IOCCSZ), (64 + 8192) / 16, 'IOCCSZ: an SQE and 8 KiB of in-capsule data');
      t.equal(id.data.readUInt16LE(NVMF.ID_MAXCMD), 128, 'MAXCMD');
      t.equal(id.data.readUInt32LE(NVMF.ID_SGLS) & NVMF.SGLS_OFFSET, NVMF.SGLS_OFFSET, 'SGLS: offsets in Data Block descriptors (in-capsule data)');
      const list = await host.command(sqe(NVME.ADMIN_IDENTIFY, 0, { 10: NVME.CNS_ACTIVE_NS_LIST }), { readBytes: 4096 });
      t.equal(list.data.readUInt32LE(0), 1, 'active namespace 1');
      const nsid = await host.command(sqe(NVME.ADMIN_IDENTIFY, 1, { 10: NVME.CNS_NAMESPACE }), { readBytes: 4096 });
      const nsze = Number(nsid.data.readBigUInt64LE(0));
      t.equal(nsze * 512 >= 16 << 20 || nsze * 4096 >= 16 << 20, true, `NSZE ${nsze} covers 16 MiB`);
      const nq = await host.command(sqe(NVME.ADMIN_SET_FEATURES, 0, { 10: NVME.FEAT_NUMBER_OF_QUEUES, 11: (63 << 16) | 63 }));
      t.equal(nq.dw0, (7 << 16) | 7, 'Number of Queues clamped to 8 and 8');

      const io = await FabricTestHost.connect(port);
      t.teardown(() => io.close());
      await io.icReq(digests);
      const c = connectCommand(1, 127, 0, SUBNQN, HOSTNQN, cntlid);
      t.equal((await io.command(c.sqe, { inCapsule: c.data })).status, 0, 'IO queue 1 connects to the controller');
      const lbaSize = 2 ** (nsid.data[128 + 4 * (nsid.data[26] & 0xf) + 2]);
      const small = Buffer.alloc(lbaSize * 2, 0x5a);
      const w1 = await io.command(sqe(NVME.IO_WRITE, 1, { 10: 8, 12: 1 }), { inCapsule: small });
      t.equal(w1.status, 0, 'a write with in-capsule data');
      const big = Buffer.from(Array.from({ length: 128 * 1024 }, (_, i) => (i * 7 + 3) & 0xff));
      const w2 = await io.command(sqe(NVME.IO_WRITE, 1, { 10: 64, 12: big.length / lbaSize - 1 }), { out: big });
      t.equal(w2.status, 0, 'a 128 KiB write after an R2T, in two H2CData PDUs');
      const r1 = await io.command(sqe(NVME.IO_READ, 1, { 10: 8, 12: 1 }), { readBytes: small.length });
      t.same(r1.data, small, 'read back the in-capsule write');
      const r2 = await io.command(sqe(NVME.IO_READ, 1, { 10: 64, 12: big.length / lbaSize - 1 }), { readBytes: big.length });
      t.ok(r2.data.equals(big), 'read back the 128 KiB write');
      const fl = await io.command(sqe(NVME.IO_FLUSH, 1));
      t.equal(fl.status, 0, 'Flush');
      const oob = await io.command(sqe(NVME.IO_READ, 1, { 10: nsze, 12: 0 }), { readBytes: lbaSize });
      t.equal(oob.status, statusOf(NVME.SCT_GENERIC, NVME.SC_LBA_OUT_OF_RANGE), 'a read past the end: LBA Out of Range');
      const badns = await io.command(sqe(NVME.IO_READ, 9, { 10: 0, 12: 0 }), { readBytes: lbaSize });
      t.equal(badns.status, statusOf(NVME.SCT_GENERIC, NVME.SC_INVALID_NAMESPACE), 'namespace 9: Invalid Namespace');
      const q9 = await FabricTestHost.connect(port);
      t.teardown(() => q9.close());
      await q9.icReq();
      const c9 = connectCommand(9, 127, 0, SUBNQN, HOSTNQN, cntlid);
      const r9 = await q9.command(c9.sqe, { inCapsule: c9.data });
      t.same([r9.status, r9.dw0], [statusOf(NVME.SCT_COMMAND_SPECIFIC, NVMF.SC_CONNECT_INVALID_PARAMETERS), NVMF.CONNECT_QID], 'IO queue 9 of 8: Invalid Parameters at QID');
    });
  }

  await t.test('refusals at Connect', async (t) => {
    const refuse = async (subnqn: string, hostnqn: string, qid: number, cntlid: number) => {
      const h = await FabricTestHost.connect(port);
      t.teardown(() => h.close());
      await h.icReq();
      const c = connectCommand(qid, 31, 0, subnqn, hostnqn, cntlid);
      return h.command(c.sqe, { inCapsule: c.data });
    };
    const host = await refuse(SUBNQN, 'nqn.2026-12.dev.phyr:stranger', 0, NVMF.CNTLID_DYNAMIC);
    t.same([host.status, host.dw0], [statusOf(NVME.SCT_COMMAND_SPECIFIC, NVMF.SC_CONNECT_INVALID_HOST), NVMF.CONNECT_IATTR_DATA | NVMF.CONNECT_DATA_HOSTNQN], 'a host not on the allow-list: Connect Invalid Host');
    t.ok(lines.some((l) => l.includes('refused host nqn.2026-12.dev.phyr:stranger')), 'and a log line says so');
    const sub = await refuse('nqn.2026-12.dev.phyr:nothing', HOSTNQN, 0, NVMF.CNTLID_DYNAMIC);
    t.same([sub.status, sub.dw0], [statusOf(NVME.SCT_COMMAND_SPECIFIC, NVMF.SC_CONNECT_INVALID_PARAMETERS), NVMF.CONNECT_IATTR_DATA | NVMF.CONNECT_DATA_SUBNQN], 'an unknown subsystem: Invalid Parameters at SUBNQN');
    const ghost = await refuse(SUBNQN, HOSTNQN, 1, 4321);
    t.same([ghost.status, ghost.dw0], [statusOf(NVME.SCT_COMMAND_SPECIFIC, NVMF.SC_CONNECT_INVALID_PARAMETERS), NVMF.CONNECT_IATTR_DATA | NVMF.CONNECT_DATA_CNTLID], 'an IO queue for no controller: Invalid Parameters at CNTLID');
    const h = await FabricTestHost.connect(port);
    t.teardown(() => h.close());
    await h.icReq();
    const c = connectCommand(0, 31, 0, SUBNQN, HOSTNQN);
    const r = await h.command(c.sqe, { inCapsule: c.data });
    const early = await refuse(SUBNQN, HOSTNQN, 1, r.dw0);
    t.same([early.status, early.dw0], [statusOf(NVME.SCT_COMMAND_SPECIFIC, NVMF.SC_CONNECT_INVALID_PARAMETERS), NVMF.CONNECT_QID], 'an IO queue before CC.EN: Invalid Parameters at QID');
    const before = await FabricTestHost.connect(port);
    t.teardown(() => before.close());
    await before.icReq();
    const id = await before.command(sqe(NVME.ADMIN_IDENTIFY, 0, { 10: NVME.CNS_CONTROLLER }), { readBytes: 4096 });
    t.equal(id.status, statusOf(NVME.SCT_GENERIC, NVME.SC_COMMAND_SEQUENCE_ERROR), 'a command before Connect: Command Sequence Error');
  });

  await t.test('the discovery controller lists the subsystem', async (t) => {
    const h = await FabricTestHost.connect(port);
    t.teardown(() => h.close());
    await h.icReq();
    const c = connectCommand(0, 31, 0, DISCOVERY_NQN, 'nqn.2026-12.dev.phyr:anyone');
    t.equal((await h.command(c.sqe, { inCapsule: c.data })).status, 0, 'any host connects to discovery');
    const id = await h.command(sqe(NVME.ADMIN_IDENTIFY, 0, { 10: NVME.CNS_CONTROLLER }), { readBytes: 4096 });
    t.equal(id.data[NVMF.ID_CNTRLTYPE], NVMF.CNTRLTYPE_DISCOVERY, 'a discovery controller');
    const numd = 2048 / 4 - 1;
    const log = await h.command(sqe(NVME.ADMIN_GET_LOG_PAGE, 0, { 10: NVMF.LID_DISCOVERY | (numd << 16) }), { readBytes: 2048 });
    t.equal(Number(log.data.readBigUInt64LE(NVMF.DISC_NUMREC)), 1, 'one record');
    const e = log.data.subarray(1024);
    t.same([e[NVMF.DISC_TRTYPE], e[NVMF.DISC_ADRFAM], e[NVMF.DISC_SUBTYPE]], [NVMF.TRTYPE_TCP, NVMF.ADRFAM_IPV4, NVMF.SUBTYPE_NVME], 'TCP, IPv4, an NVM subsystem');
    t.equal(e.subarray(NVMF.DISC_TRSVCID, NVMF.DISC_TRSVCID + 8).toString().replace(/\0+$/, ''), String(port), 'TRSVCID is the port');
    t.equal(e.subarray(NVMF.DISC_SUBNQN, NVMF.DISC_SUBNQN + SUBNQN.length).toString(), SUBNQN, 'SUBNQN');
  });

  await t.test('malformed PDUs end the connection with a C2HTermReq naming the field', async (t) => {
    const cases: Array<[string, (h: FabricTestHost) => Promise<void> | void, number, number]> = [
      ['a capsule before the ICReq', (h) => h.sendRaw(Buffer.concat([Buffer.from([T.PDU_CAPSULE_CMD, 0, 72, 0, 72, 0, 0, 0]), Buffer.alloc(64)])), T.FES_PDU_SEQUENCE_ERROR, T.CH_TYPE],
      ['HLEN 60 in a capsule', async (h) => { await h.icReq(); h.sendRaw(Buffer.concat([Buffer.from([T.PDU_CAPSULE_CMD, 0, 60, 0, 60, 0, 0, 0]), Buffer.alloc(52)])); }, T.FES_INVALID_PDU_HEADER, T.CH_HLEN],
      ['ICReq PFV 1', (h) => { const b = Buffer.alloc(128); b[0] = 0; b[2] = 128; b.writeUInt32LE(128, 4); b[8] = 1; h.sendRaw(b); }, T.FES_UNSUPPORTED_PARAMETER, T.IC_PFV],
      ['H2CData no R2T asked for', async (h) => { await h.icReq(); h.h2cData(5, 77, 0, Buffer.alloc(512)); }, T.FES_INVALID_PDU_HEADER, T.DATA_TTAG],
    ];
    for (const [what, send, fes, fei] of cases) {
      const h = await FabricTestHost.connect(port);
      t.teardown(() => h.close());
      await send(h);
      await h.closed;
      t.same(h.term, { fes, fei }, `${what}: FES ${fes}, FEI ${fei}, then the connection closes`);
    }
    t.ok(target.address.port === port, 'the target still listens');
  });
});

// Starts `phyr serve ARGS` as a user runs it; resolves once its fabric start line names the
// port it listens on (ARGS ask for port 0). `out` is everything it printed so far.
async function startServe(t: Test, args: string[]): Promise<{ child: ChildProcess; port: number; out: () => string }> {
  const cli = path.join(__dirname, '..', '..', 'dist', 'tools', 'phyr.js');
  const child = spawn(process.execPath, [cli, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c));
  child.stderr?.on('data', (c: Buffer) => (out += c));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /fabric: NVMe\/TCP at tcp:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve(Number(m[1]));
      }
    }, 50);
    child.once('exit', (code) => (clearInterval(timer), reject(new Error(`phyr serve exited ${code}: ${out}`))));
  });
  return { child, port, out: () => out };
}

t.test('phyr serve --listen: the CLI starts the target, admits its hosts, refuses others, stops on SIGTERM', async (t) => {
  const sock = `/tmp/phyr-fabric-cli-${process.pid}.sock`;
  const { child, port, out } = await startServe(t, ['emu:size=16M', '--socket', sock, '--listen', 'tcp://127.0.0.1:0', '--subnqn', SUBNQN, '--allow-host', HOSTNQN]);
  t.match(out(), `subsystem ${SUBNQN}, admitting hosts ${HOSTNQN}`, 'the start line names the subsystem and the hosts');
  const connectAs = async (hostnqn: string) => {
    const h = await FabricTestHost.connect(port);
    t.teardown(() => h.close());
    await h.icReq();
    const c = connectCommand(0, 31, 0, SUBNQN, hostnqn);
    return h.command(c.sqe, { inCapsule: c.data });
  };
  t.equal((await connectAs(HOSTNQN)).status, 0, 'the allowed host connects');
  t.equal((await connectAs('nqn.2026-12.dev.phyr:other')).status, statusOf(NVME.SCT_COMMAND_SPECIFIC, NVMF.SC_CONNECT_INVALID_HOST), 'another host is refused');
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.equal(await exit, 0, 'SIGTERM: exit status 0');
  t.match(out(), /refused host nqn\.2026-12\.dev\.phyr:other/, 'the refusal was logged');
});

t.test('phyr serve --listen without --socket: the fabric-only target (interrupt completions) runs IO', async (t) => {
  const { child, port } = await startServe(t, ['emu:size=16M,lbads=12', '--listen', 'tcp://127.0.0.1:0', '--subnqn', SUBNQN, '--allow-host', HOSTNQN]);
  const admin = await FabricTestHost.connect(port);
  t.teardown(() => admin.close());
  await admin.icReq();
  const c = connectCommand(0, 31, 0, SUBNQN, HOSTNQN);
  const r = await admin.command(c.sqe, { inCapsule: c.data });
  t.equal(r.status, 0, 'admin Connect');
  await admin.command(propertyCommand(NVMF.FCTYPE_PROPERTY_SET, NVME.REG_CC, false, 0x460001));
  await admin.command(sqe(NVME.ADMIN_SET_FEATURES, 0, { 10: NVME.FEAT_NUMBER_OF_QUEUES, 11: 0 }));
  const io = await FabricTestHost.connect(port);
  t.teardown(() => io.close());
  await io.icReq();
  const ic = connectCommand(1, 31, 0, SUBNQN, HOSTNQN, r.dw0);
  t.equal((await io.command(ic.sqe, { inCapsule: ic.data })).status, 0, 'IO queue Connect');
  const data = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 3 + 1) & 0xff));
  t.equal((await io.command(sqe(NVME.IO_WRITE, 1, { 10: 10, 12: 1 }), { inCapsule: data })).status, 0, 'a write completes');
  const back = await io.command(sqe(NVME.IO_READ, 1, { 10: 10, 12: 1 }), { readBytes: data.length });
  t.ok(back.status === 0 && back.data.equals(data), 'and reads back');
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.equal(await exit, 0, 'SIGTERM: exit status 0');
});
