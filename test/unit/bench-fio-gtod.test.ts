// gtod_reduce is accepted with one notice saying nothing is reduced (phyr's timestamps are
// cheap TSC reads); its value is still checked.
import t from 'tap';
import { parseBenchArgs } from '../../bench/cli/config';

t.test('gtod_reduce=1: one notice for the run, however many jobs give it', async (t) => {
  const cfg = parseBenchArgs(['--name=a', '--gtod_reduce=1', '--name=b', '--gtod_reduce']);
  t.equal(cfg.jobs.length, 2);
  const n = cfg.notices.filter((s) => s.startsWith('--gtod_reduce'));
  t.equal(n.length, 1, 'one notice');
  t.match(n[0], /nothing is reduced: phyr's timestamps are cheap TSC reads/);
});

t.test('gtod_reduce=0 is fio\'s default: no notice', async (t) => {
  t.same(parseBenchArgs(['--name=a', '--gtod_reduce=0']).notices, []);
});

t.test('a value that is no boolean is refused', async (t) => {
  t.throws(() => parseBenchArgs(['--name=a', '--gtod_reduce=often']), /gtod_reduce/);
});
