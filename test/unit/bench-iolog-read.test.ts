// read_iolog's parser and plan (bench/cli/iolog.ts): fio's iolog versions 2 and 3, their
// timing (version 2 wait lines, version 3 timestamps in microseconds, as fio 3.33 writes
// them), replay_no_stall, and the checks against the namespace, each refusal naming the line.
import t from 'tap';
import { parseIoLog, replayPlan } from '../../bench/cli/iolog';
import { parseBenchArgs } from '../../bench/cli/config';
import { planJob } from '../../bench/cli/plan';

const V2 = ['fio version 2 iolog', 'ns1 add', 'ns1 open', 'ns1 read 0 4096', 'ns1 wait 250 0', 'ns1 write 8192 8192', 'ns1 wait 50 0', 'ns1 trim 4096 4096', 'ns1 close', ''].join('\n');
// The shape fio 3.33's write_iolog gives (measured on a loop device): a timestamp first.
const V3 = ['fio version 3 iolog', '20 /dev/loop0 add', '140 /dev/loop0 open', '148 /dev/loop0 trim 0 4096', '271 /dev/loop0 write 0 4096', '1148 /dev/loop0 read 4096 4096', '1200 /dev/loop0 close'].join('\n');

t.test('version 2: IOs in order, wait lines add up (below 100 us discarded, as fio)', async (t) => {
  const log = parseIoLog(V2, 'x', false);
  t.equal(log.version, 2);
  t.equal(log.file, 'ns1');
  t.same(log.ios, [
    { offset: 0, bytes: 4096, dir: 'read', dueNs: 0 },
    { offset: 8192, bytes: 8192, dir: 'write', dueNs: 250e3 },
    { offset: 4096, bytes: 4096, dir: 'trim', dueNs: 250e3 },
  ]);
  t.same(parseIoLog(V2, 'x', true).ios.map((i) => i.dueNs), [0, 0, 0], 'replay_no_stall drops the timing');
});

t.test('version 3: timestamps in microseconds, counted from the first IO', async (t) => {
  const log = parseIoLog(V3, 'x', false);
  t.equal(log.version, 3);
  t.equal(log.file, '/dev/loop0');
  t.same(log.ios.map((i) => [i.dir, i.offset, i.bytes, i.dueNs]), [['trim', 0, 4096, 0], ['write', 0, 4096, 123e3], ['read', 4096, 4096, 1000e3]]);
});

t.test('what is refused names the line and why', async (t) => {
  t.throws(() => parseIoLog('fio version 1 iolog\n', 'L', false), /L: not a fio iolog: the first line must be "fio version 2 iolog" or "fio version 3 iolog"/);
  t.same(parseIoLog('fio version 2 iolog\nns1 write 0 4096\nns1 sync 0 0\nns1 datasync 0 0\n', 'L', false).ios.map((i) => i.dir), ['write', 'sync', 'sync'], 'sync and datasync are one Flush');
  t.throws(() => parseIoLog('fio version 2 iolog\nns1 sync 0 0\n', 'L', false), /no read, write or trim to replay/);
  t.throws(() => parseIoLog('fio version 2 iolog\nns1 read 0 4096\nns2 read 0 4096\n', 'L', false), /line 3 .*a second file 'ns2'/);
  t.throws(() => parseIoLog('fio version 3 iolog\n5 ns1 wait 100 0\n', 'L', false), /version 3 logs have no wait action/);
  t.throws(() => parseIoLog('fio version 3 iolog\nns1 read 0 4096\n', 'L', false), /starts with its timestamp/);
  t.throws(() => parseIoLog('fio version 2 iolog\nns1 read 0x10 4096\n', 'L', false), /expected FILE ACTION OFFSET LENGTH/);
  t.throws(() => parseIoLog('fio version 2 iolog\nns1 seek 0 4096\n', 'L', false), /unknown action 'seek'/);
  t.throws(() => parseIoLog('fio version 2 iolog\nns1 add\n', 'L', false), /no read, write or trim to replay/);
});

t.test('the plan replays over the whole namespace; IOs must be whole blocks inside it', async (t) => {
  const ns = { nsid: 1, lbaSize: 512, blocks: 2048 };
  const base = planJob(parseBenchArgs(['--name=j', '--size=64k']).jobs[0], ns);
  const { plan, replay } = replayPlan(base, parseIoLog(V2, 'x', false), ns, 'L');
  t.equal(plan.regionLba, 0);
  t.equal(plan.regionBytes, 1 << 20);
  t.equal(plan.ioBytes, 4096 + 8192 + 4096);
  t.equal(plan.slotBytes, 8192);
  t.equal(plan.readPercent, 50, 'reads (and trims) and writes');
  t.same(Array.from(replay), [0, 4096, 0, 0, 8192, 8192, 1, 250e3, 4096, 4096, 2, 250e3]);
  const one = (line: string) => replayPlan(base, parseIoLog(`fio version 2 iolog\n${line}\n`, 'x', false), ns, 'L');
  t.throws(() => one('f read 100 4096'), /L: IO 1 \(read 100 4096\): offset and length must be whole 512-byte logical blocks/);
  t.throws(() => one('f write 1048064 1024'), /reaches beyond the namespace \(1MiB\)/);
  t.throws(() => one('f read 0 0'), /and the length not 0/);
});
