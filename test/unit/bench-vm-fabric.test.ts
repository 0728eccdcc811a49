// bench/vm-fabric.js: the NVMe/TCP rows of bench/vm.js — figures from fio's JSON and the
// guest's and serve process's CPU, the phyr/nvmet ratio, row keys and the /proc parsers.
import t from 'tap';
import path from 'path';

interface Params { target: string; rw: string; qd: number }
interface Row { label: string; params: Params; iops: number }
const fabric = require(path.resolve(__dirname, '..', '..', 'bench', 'vm-fabric.js')) as {
  SECTION: string;
  SHAPES: { rw: string; qd: number }[];
  TARGETS: { id: string; name: string }[];
  labelOf(target: { id: string; name: string }, s: { rw: string; qd: number }): string;
  rowKey(p: Params): string;
  busyJiffies(stat: string): number;
  processJiffies(line: string): number;
  fioFigures(doc: object, rw: string, cpu: { guestNs: number; serveNs: number | null }): Record<string, number | undefined>;
  ratios(rows: Row[]): Map<string, number>;
};

const fioDoc = (rw: 'read' | 'write', ios: number, runtimeMs: number, usr: number, sys: number) => {
  const dir = { total_ios: ios, iops: (ios * 1000) / runtimeMs, runtime: runtimeMs, clat_ns: { percentile: { '50.000000': 700_000, '99.000000': 2_500_000 } } };
  const empty = { total_ios: 0, iops: 0, runtime: 0, clat_ns: { percentile: {} } };
  return { timestamp_ms: 1, jobs: [{ error: 0, usr_cpu: usr, sys_cpu: sys, read: rw === 'read' ? dir : empty, write: rw === 'write' ? dir : empty }] };
};

t.test('labels, keys and the section filter', async (t) => {
  t.equal(fabric.SECTION, 'NVMe/TCP');
  const labels = fabric.TARGETS.flatMap((x) => fabric.SHAPES.map((s) => fabric.labelOf(x, s)));
  t.same(labels, ['NVMe/TCP nvmet randread QD1', 'NVMe/TCP nvmet randread QD32', 'NVMe/TCP nvmet randwrite QD32', 'NVMe/TCP phyr serve randread QD1', 'NVMe/TCP phyr serve randread QD32', 'NVMe/TCP phyr serve randwrite QD32']);
  t.ok(labels.every((l) => new RegExp('NVMe/TCP').test(l)), '--only NVMe/TCP selects every row of the section');
  t.notOk(['kernel libaio QD1', 'phyr PRP QD32'].some((l) => new RegExp('NVMe/TCP').test(l)), 'and no local row');
  t.equal(fabric.rowKey({ target: 'nvmet', rw: 'randread', qd: 1 }), 'tcp-nvmet-randread-qd1');
  t.equal(fabric.rowKey({ target: 'phyr-serve', rw: 'randwrite', qd: 32 }), 'tcp-phyr-serve-randwrite-qd32');
});

t.test('/proc/stat busy time and /proc/PID/stat utime+stime', async (t) => {
  // user nice system idle iowait irq softirq steal
  t.equal(fabric.busyJiffies('cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 1 2 3 4\n'), 160);
  // A command name with spaces and a parenthesis: fields are counted after the last ')'.
  const line = '1234 (node (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 37 12 0 0 20 0 11 0 500 1 1';
  t.equal(fabric.processJiffies(line), 49);
});

t.test('figures of a read row and a write row, with and without a serve process', async (t) => {
  // 3000 reads in 3 s, fio at 10 % usr + 5 % sys of 3 s = 450 ms; the guest busy 1.5 s.
  const nvmet = fabric.fioFigures(fioDoc('read', 3000, 3000, 10, 5), 'randread', { guestNs: 1.5e9, serveNs: null });
  t.equal(nvmet.iops, 1000);
  t.equal(nvmet.p50Ns, 700_000);
  t.equal(nvmet.p99Ns, 2_500_000);
  t.equal(nvmet.cpuNsPerIo, 150_000, 'fio CPU per IO');
  t.equal(nvmet.restNsPerIo, 350_000, 'the rest of the guest per IO');
  t.equal(nvmet.serveNsPerIo, undefined, 'no serve column for nvmet');
  const phyr = fabric.fioFigures(fioDoc('write', 600, 3000, 10, 5), 'randwrite', { guestNs: 2.4e9, serveNs: 1.2e9 });
  t.equal(phyr.iops, 200, 'the write direction is read for randwrite');
  t.equal(phyr.serveNsPerIo, 2_000_000);
  t.equal(phyr.restNsPerIo, (2.4e9 - 0.45e9 - 1.2e9) / 600, 'guest less fio less serve');
  t.throws(() => fabric.fioFigures(fioDoc('read', 3000, 3000, 1, 1), 'randwrite', { guestNs: 1, serveNs: null }), /did no randwrite IO/, 'a job with no IO of its direction is an error, not a zero');
});

t.test('phyr over nvmet per shape; a shape without its nvmet row has no ratio', async (t) => {
  const row = (target: string, rw: string, qd: number, iops: number): Row => ({ label: `${target} ${rw} ${qd}`, params: { target, rw, qd }, iops });
  const r = fabric.ratios([row('nvmet', 'randread', 1, 400), row('nvmet', 'randread', 32, 1000), row('phyr-serve', 'randread', 1, 100), row('phyr-serve', 'randread', 32, 250), row('phyr-serve', 'randwrite', 32, 90)]);
  t.same([...r], [['phyr-serve randread 1', 0.25], ['phyr-serve randread 32', 0.25]]);
});
