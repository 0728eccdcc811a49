// `phyr nvme`'s JSON: json-c's pretty layout, and each structure's keys, order and value
// formatting as nvme-cli 2.3 prints them (the key lists below are read off its print code).
import t from 'tap';
import { JcObject, int32, jsonC } from '../../tools/nvme/json-c';
import { idCtrlJson } from '../../tools/nvme/structures/id-ctrl';
import { idNsJson } from '../../tools/nvme/structures/id-ns';
import { smartLogJson } from '../../tools/nvme/structures/smart-log';
import { errorLogJson } from '../../tools/nvme/structures/error-log';
import { fwLogJson } from '../../tools/nvme/structures/fw-log';
import { nsDescsJson } from '../../tools/nvme/structures/ns-descs';
import { getFeatureLine } from '../../tools/nvme/subcommands/features';
import { hexDump } from '../../tools/nvme/normal';
import { cHexPadded } from '../../tools/nvme/hex';

const ID_CTRL_KEYS = 'vid ssvid sn mn fr rab ieee cmic mdts cntlid ver rtd3r rtd3e oaes ctratt rrls cntrltype fguid crdt1 crdt2 crdt3 nvmsr vwci mec oacs acl aerl frmw lpa elpe npss avscc apsta wctemp cctemp mtfa hmpre hmmin tnvmcap unvmcap rpmbs edstt dsto fwug kas hctma mntmt mxtmt sanicap hmminds hmmaxd nsetidmax endgidmax anatt anacap anagrpmax nanagrpid pels domainid megcap sqes cqes maxcmd nn oncs fuses fna vwc awun awupf icsvscc nwpc acwu ocfs sgls mnan maxdna maxcna subnqn ioccsz iorcsz icdoff fcatt msdbd ofcs psds'.split(' ');
const PSD_KEYS = 'max_power flags entry_lat exit_lat read_tput read_lat write_tput write_lat idle_power idle_scale active_power active_power_work active_scale'.split(' ');
const ID_NS_KEYS = 'nsze ncap nuse nsfeat nlbaf flbas mc dpc dps nmic rescap fpi dlfeat nawun nawupf nacwu nabsn nabo nabspf noiob nvmcap nsattr nvmsetid npwg npwa npdg npda nows mssrl mcl msrc nulbaf anagrpid endgid eui64 nguid lbafs'.split(' ');
const SMART_KEYS = 'critical_warning temperature avail_spare spare_thresh percent_used endurance_grp_critical_warning_summary data_units_read data_units_written host_read_commands host_write_commands controller_busy_time power_cycles power_on_hours unsafe_shutdowns media_errors num_err_log_entries warning_temp_time critical_comp_time thm_temp1_trans_count thm_temp2_trans_count thm_temp1_total_time thm_temp2_total_time'.split(' ');
const ERROR_KEYS = 'error_count sqid cmdid status_field phase_tag parm_error_location lba nsid vs trtype cs trtype_spec_info'.split(' ');

t.test('json-c pretty layout: two spaces, no space after the colon, empty {} and [], insertion order', async (t) => {
  const o = new JcObject().add('b', 1).add('10', 'x/y').add('list', [new JcObject().add('k', 2n)]).add('none', []).add('empty', new JcObject());
  t.equal(jsonC(o), '{\n  "b":1,\n  "10":"x/y",\n  "list":[\n    {\n      "k":2\n    }\n  ],\n  "none":[],\n  "empty":{}\n}');
  t.equal(int32(0x80000001), -2147483647, 'json-c ints are int32: bit 31 prints negative, as nvme-cli does');
});

function ctrlData(): Uint8Array {
  const b = new Uint8Array(4096);
  const v = new DataView(b.buffer);
  v.setUint16(0, 0x1b36, true);
  b.set(Buffer.from('SN1 '.padEnd(20, ' ')), 4);
  b.set(Buffer.from('QEMU NVMe Ctrl'.padEnd(40, ' ')), 24);
  b.set(Buffer.from('8.0.0   '), 64);
  b.set([0x00, 0x54, 0x52], 73);
  b.set([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef], 112);
  v.setUint32(536, 0x80100001, true); // SGLS with bit 31 set
  b[263] = 1; // two power states
  v.setUint16(2048, 2500, true);
  b[2048 + 18] = 0x80; // IPS: 2 (0.01 W)
  b[2048 + 22] = 0x45; // APS 1, APW 5
  b[2048 + 32 + 3] = 0x3;
  b[368] = 7; // MEGCAP
  v.setUint32(560, 9, true); // MAXCNA
  return b;
}

t.test('id-ctrl: every key of nvme-cli in its order, sn/mn/fr untrimmed, fguid as a UUID, psds schema', async (t) => {
  const j = idCtrlJson(ctrlData());
  t.same(j.keys(), ID_CTRL_KEYS.filter((k) => k !== 'subnqn'), 'subnqn is left out when empty');
  t.equal(j.get('sn'), 'SN1                 ');
  t.equal(j.get('mn'), 'QEMU NVMe Ctrl                          ');
  t.equal(j.get('fr'), '8.0.0   ');
  t.equal(j.get('ieee'), 0x525400);
  t.equal(j.get('fguid'), '12345678-9abc-def0-0123-456789abcdef');
  t.equal(j.get('sgls'), int32(0x80100001));
  t.equal(j.get('megcap'), '7');
  t.equal(j.get('maxcna'), 9);
  const psds = j.get('psds') as JcObject[];
  t.equal(psds.length, 2);
  t.same(psds[0].keys(), PSD_KEYS);
  t.equal(psds[0].get('idle_scale'), 2);
  t.equal(psds[0].get('active_power_work'), 5);
  t.equal(psds[0].get('active_scale'), 1);
  t.equal(psds[1].get('flags'), 3);
  const withNqn = ctrlData();
  withNqn.set(Buffer.from('nqn.2019-08.org.qemu:x'), 768);
  t.same(idCtrlJson(withNqn).keys(), ID_CTRL_KEYS);
  t.equal(idCtrlJson(withNqn).get('subnqn'), 'nqn.2019-08.org.qemu:x');
  t.match(jsonC(idCtrlJson(withNqn)), /^\{\n  "vid":6966,\n  "ssvid":0,\n  "sn":"SN1                 ",\n/);
  t.throws(() => idCtrlJson(new Uint8Array(100)), RangeError);
});

t.test('id-ns: keys in order; NPWG..NOWS only with NSFEAT bit 4; lbafs with rp as the whole byte', async (t) => {
  const b = new Uint8Array(4096);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, 1n << 40n, true);
  b[25] = 1;
  b[26] = 1;
  b[130] = 9;
  b[134] = 12;
  b[135] = 2;
  b.set([1, 2, 3, 4, 5, 6, 7, 8], 120);
  const j = idNsJson(b);
  t.same(j.keys(), ID_NS_KEYS.filter((k) => !['npwg', 'npwa', 'npdg', 'npda', 'nows'].includes(k)));
  t.equal(j.get('nsze'), 1n << 40n);
  t.equal(j.get('eui64'), '0102030405060708');
  t.equal(j.get('nguid'), '00000000000000000000000000000000');
  t.same((j.get('lbafs') as JcObject[]).map((l) => l.entries), [[['ms', 0], ['ds', 9], ['rp', 0]], [['ms', 0], ['ds', 12], ['rp', 2]]]);
  b[24] = 0x10;
  t.same(idNsJson(b).keys(), ID_NS_KEYS);
});

t.test('smart-log: keys, uint128 counters as strings, nonzero sensors only, -H critical warning bits', async (t) => {
  const b = new Uint8Array(512);
  const v = new DataView(b.buffer);
  b[0] = 0x05;
  v.setUint16(1, 310, true);
  v.setBigUint64(48, 0xffffffffffffffffn, true);
  v.setBigUint64(56, 1n, true); // data units written = 2^64 + 2^64 - 1
  v.setUint16(200 + 2, 300, true); // sensor 2
  const j = smartLogJson(b);
  const keys = [...SMART_KEYS];
  keys.splice(keys.indexOf('thm_temp1_trans_count'), 0, 'temperature_sensor_2');
  t.same(j.keys(), keys);
  t.equal(j.get('data_units_written'), ((1n << 64n) + 0xffffffffffffffffn).toString());
  t.equal(j.get('temperature_sensor_2'), 300);
  const h = smartLogJson(b, true).get('critical_warning') as JcObject;
  t.same(h.entries, [['value', 5], ['available_spare', 1], ['temp_threshold', 0], ['reliability_degraded', 1], ['ro', 0], ['vmbu_failed', 0], ['pmr_ro', 0]]);
});

t.test('error-log: status field without its phase bit, phase_tag apart', async (t) => {
  const b = new Uint8Array(128);
  const v = new DataView(b.buffer);
  v.setBigUint64(64, 3n, true);
  v.setUint16(64 + 12, (0x4002 << 1) | 1, true);
  v.setUint32(64 + 24, 1, true);
  const j = errorLogJson(b, 2);
  const errors = j.get('errors') as JcObject[];
  t.equal(errors.length, 2);
  t.same(errors[1].keys(), ERROR_KEYS);
  t.equal(errors[1].get('error_count'), 3n);
  t.equal(errors[1].get('status_field'), 0x4002);
  t.equal(errors[1].get('phase_tag'), 1);
  t.throws(() => errorLogJson(b, 3), RangeError);
});

t.test('fw-log, ns-descs: device-named object; descriptor list', async (t) => {
  const b = new Uint8Array(512);
  b[0] = 1;
  b.set(Buffer.from('1.0     '), 8);
  t.equal(jsonC(fwLogJson(b, 'nvme0')), '{\n  "nvme0":{\n    "Active Firmware Slot (afi)":1,\n    "Firmware Rev Slot 1":"2314885530819505713 (1.0.....)"\n  }\n}');
  const d = new Uint8Array(4096);
  d.set([3, 16, 0, 0], 0);
  d.set([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00], 4);
  d.set([4, 1, 0, 0, 0], 20);
  const j = nsDescsJson(d);
  t.same((j.get('ns-descs') as JcObject[]).map((e) => e.entries), [
    [['loc', 0], ['nidt', 3], ['nidl', 16], ['type', 'uuid'], ['uuid', '11223344-5566-7788-99aa-bbccddeeff00']],
    [['loc', 20], ['nidt', 4], ['nidl', 1], ['type', 'csi'], ['csi', '0']],
  ]);
  t.equal(jsonC(nsDescsJson(new Uint8Array(4096))), '{}');
});

t.test("get-feature's line and the hex dump, as nvme-cli's printf formats them", async (t) => {
  t.equal(getFeatureLine(6, 0, 1), 'get-feature:0x06 (Volatile Write Cache), Current value:0x00000001');
  t.equal(getFeatureLine(8, 1, 0), 'get-feature:0x08 (Interrupt Coalescing), Default value:00000000');
  t.equal(getFeatureLine(0xc0, 3, 4), 'get-feature:0xc0 (Unknown), Supported capabilities value:0x00000004');
  t.equal(cHexPadded(0, 2), '00');
  t.equal(hexDump(Uint8Array.from([0x41, 0, 0x7e])), `       0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f\n0000: 41 00 7e ${' '.repeat(39)} "A.~"`);
});

t.test("id-ctrl text: nvme-cli's printf formats (hex where it uses %#x, ieee as 3 bytes, power states)", async (t) => {
  const { idCtrlText } = await import('../../tools/nvme/subcommands/identify');
  const lines = idCtrlText(ctrlData()).split('\n');
  t.equal(lines[0], 'NVME Identify Controller:');
  t.equal(lines[1], 'vid       : 0x1b36');
  t.equal(lines[2], 'ssvid     : 0');
  t.equal(lines[3], 'sn        : SN1                 ');
  t.ok(lines.includes('ieee      : 525400'));
  t.ok(lines.includes('cntlid    : 0'));
  t.ok(lines.includes('cntrltype : 0'));
  t.ok(lines.includes('subnqn    : '), 'the text prints subnqn even when empty');
  t.ok(lines.includes('ofcs      : 0'), 'ofcs in decimal, the last field before the power states');
  t.same(lines.slice(-6), [
    'ps      0 : mp:25.00W operational enlat:0 exlat:0 rrt:0 rrl:0',
    '            rwt:0 rwl:0 idle_power:0.00W active_power:0.0000W',
    '            active_power_workload:reserved',
    'ps      1 : mp:0.0000W non-operational enlat:0 exlat:0 rrt:0 rrl:0',
    '            rwt:0 rwl:0 idle_power:- active_power:-',
    '            active_power_workload:-',
  ]);
});

t.test("id-ns text: nvme-cli's order and formats (nsattr after anagrpid with a tab, nguid before eui64, lbaf lines)", async (t) => {
  const { idNsText } = await import('../../tools/nvme/subcommands/identify');
  const b = new Uint8Array(4096);
  new DataView(b.buffer).setBigUint64(0, 0x800n, true);
  b[25] = 1;
  b[26] = 1;
  b[33] = 9;
  b[130] = 9;
  b[134] = 12;
  b.set([1, 2, 3, 4, 5, 6, 7, 8], 120);
  const lines = idNsText(1, b).split('\n');
  t.same(lines.slice(0, 2), ['NVME Identify Namespace 1:', 'nsze    : 0x800']);
  t.ok(lines.includes('dlfeat  : 9'));
  t.same(lines.slice(-8, -2), ['anagrpid: 0', 'nsattr\t: 0', 'nvmsetid: 0', 'endgid  : 0', 'nguid   : 00000000000000000000000000000000', 'eui64   : 0102030405060708']);
  t.same(lines.slice(-2), ['lbaf  0 : ms:0   lbads:9  rp:0 ', 'lbaf  1 : ms:0   lbads:12 rp:0 (in use)']);
});
