// Identify parsing (nvme-cli field names, byte offsets of NVMe 1.4 §5.15.2), the text
// layout, status names and error messages.
import t from 'tap';
import { formatIdentifyController, formatIdentifyNamespace, formatInUse, parseIdentifyController, parseIdentifyNamespace } from '../../drivers/nvme/identify';
import { decodeStatus, NvmeStatusError, opcodeName, statusName, NvmeTimeoutError, ControllerResetError, DeviceGoneError } from '../../drivers/nvme/errors';
import { adminSqe, createCqSqe, createSqSqe, abortSqe, setNumberOfQueuesSqe } from '../../drivers/nvme/admin';
import { NVME } from '../../spec/nvme';

function ctrlData(): Uint8Array {
  const b = new Uint8Array(4096);
  const v = new DataView(b.buffer);
  v.setUint16(0, 0x1b36, true);
  v.setUint16(2, 0x1af4, true);
  b.set(Buffer.from('SN123               '), 4);
  b.set(Buffer.from('Model X'.padEnd(40, ' ')), 24);
  b.set(Buffer.from('1.0     '), 64);
  b[72] = 6;
  b.set([0x00, 0x54, 0x52], 73);
  b[77] = 5;
  v.setUint16(78, 0x41, true);
  v.setUint32(80, 0x10400, true);
  v.setUint32(280, 0x4000_0000, true); // tnvmcap
  b[263] = 0; // npss: one power state
  v.setUint16(2048, 2500, true);
  b[512] = 0x66;
  b[513] = 0x44;
  v.setUint32(516, 3, true);
  v.setUint16(520, 0x0c, true);
  b[525] = 1;
  v.setUint32(536, 0x10001, true);
  b.set(Buffer.from('nqn.2024-01.io.phyr:emu'), 768);
  return b;
}

t.test('Identify Controller fields', async (t) => {
  const c = parseIdentifyController(ctrlData());
  t.match(c, { vid: 0x1b36, ssvid: 0x1af4, sn: 'SN123', mn: 'Model X', fr: '1.0', rab: 6, ieee: 0x525400, mdts: 5, cntlid: 0x41, ver: 0x10400, sqes: 0x66, cqes: 0x44, nn: 3, oncs: 0x0c, vwc: 1, sgls: 0x10001, subnqn: 'nqn.2024-01.io.phyr:emu', tnvmcap: 0x4000_0000, npss: 0 });
  t.equal(c.psds.length, 1);
  t.equal(c.psds[0].max_power, 2500);
  const text = formatIdentifyController(c);
  t.match(text, /^NVME Identify Controller:\nvid       : 0x1b36\nssvid     : 0x1af4\nsn        : SN123\nmn        : Model X\n/);
  t.match(text, /\nmdts      : 5\n/);
  t.match(text, /\nsgls      : 0x10001\n/);
  t.match(text, /ps    0 : mp:25.00W/);
  t.throws(() => parseIdentifyController(new Uint8Array(100)), /4096-byte/);
});

t.test('Identify Namespace fields and LBA formats', async (t) => {
  const b = new Uint8Array(4096);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x200000, true);
  v.setUint32(8, 0x200000, true);
  v.setUint32(16, 0x1000, true);
  b[25] = 1; // two formats
  b[26] = 1; // format 1 in use
  v.setUint16(128, 0, true);
  b[130] = 9;
  v.setUint16(132, 8, true);
  b[134] = 12;
  b[135] = 2;
  b.set([1, 2, 3, 4, 5, 6, 7, 8], 120);
  const ns = parseIdentifyNamespace(b);
  t.match(ns, { nsze: 0x200000, ncap: 0x200000, nuse: 0x1000, nlbaf: 1, flbas: 1, eui64: '0102030405060708' });
  t.same(ns.lbafs, [{ ms: 0, ds: 9, rp: 0 }, { ms: 8, ds: 12, rp: 2 }]);
  t.equal(formatInUse(ns), 1);
  const text = formatIdentifyNamespace(1, ns);
  t.match(text, /^NVME Identify Namespace 1:\nnsze    : 0x200000\n/);
  t.match(text, /lbaf  1 : ms:8   lbads:12 rp:0x2 \(in use\)/);
  t.notMatch(text, /lbaf  0 .*in use/);
});

t.test('status names, decoding and error messages', async (t) => {
  t.equal(statusName(0, 0x80), 'LBA Out of Range');
  t.equal(statusName(0, 0x13), 'PRP Offset Invalid');
  t.equal(statusName(1, 0x01), 'Invalid Queue Identifier');
  t.equal(statusName(2, 0x81), 'Unrecovered Read Error');
  t.equal(statusName(0, 0x7e), 'Generic Command Status 0x7e');
  t.equal(statusName(7, 0xc0), 'Vendor Specific 0xc0');
  t.equal(statusName(5, 0x01), 'Status Code Type 5 0x01');
  t.same(decodeStatus(0x4000 | (2 << 11) | (1 << 13) | (1 << 8) | 2), { sc: 2, sct: 1, crd: 2, more: true, dnr: true });
  const e = new NvmeStatusError(0x4080, { admin: false, opcode: NVME.IO_READ, name: 'Read', nsid: 1, lba: 99, blocks: 1 });
  t.equal(e.code, 'PHYR_NVME_STATUS');
  t.equal(e.nsid, 1);
  t.equal(e.message, 'Read on namespace 1 (LBA 99, 1 block) failed: LBA Out of Range (SCT 0, SC 0x80, DNR)');
  t.equal(opcodeName(true, NVME.ADMIN_IDENTIFY), 'Identify');
  t.equal(opcodeName(false, NVME.IO_WRITE_ZEROES), 'Write Zeroes');
  t.equal(opcodeName(false, 0x99), 'I/O opcode 0x99');
  t.match(new NvmeTimeoutError({ admin: false, opcode: 2, name: 'Read' }, 100).message, /within 100 ms/);
  t.match(new ControllerResetError({ admin: false, opcode: 2, name: 'Read' }, 'CFS').message, /reset \(CFS\); retry/);
  t.equal(new DeviceGoneError('x').code, 'PHYR_DEVICE_GONE');
});

t.test('admin SQE encodings', async (t) => {
  const w = (u: Uint8Array) => new Uint32Array(u.buffer);
  t.same([...w(createCqSqe(3, 256, 2))].slice(10, 12), [3 | (255 << 16), 1 | 2 | (2 << 16)]);
  t.same([...w(createCqSqe(3, 256, -1))].slice(10, 12), [3 | (255 << 16), 1]);
  t.same([...w(createSqSqe(3, 256, 3))].slice(10, 12), [3 | (255 << 16), 1 | (3 << 16)]);
  t.equal(w(abortSqe(1, 77))[10], 1 | (77 << 16));
  t.same([...w(setNumberOfQueuesSqe(64, 64))].slice(10, 12), [NVME.FEAT_NUMBER_OF_QUEUES, 63 | (63 << 16)]);
  t.equal(adminSqe(NVME.ADMIN_IDENTIFY, { nsid: 5 })[4], 5);
});
