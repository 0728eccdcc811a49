// phyr compare's --fail-if grammar: every accepted form parses to its metric, direction,
// operator and limit; every malformed one is a usage error that lists the accepted forms.
import t from 'tap';
import { breaks, parseThreshold, THRESHOLD_FORMS } from '../../tools/compare/thresholds';
import { CompareUsageError } from '../../tools/compare/errors';

t.test('the documented forms parse', async (t) => {
  t.same(parseThreshold('iops<-5%'), { text: 'iops<-5%', metric: { kind: 'iops' }, op: '<', limitPercent: -5 });
  t.same(parseThreshold('bw<-5%'), { text: 'bw<-5%', metric: { kind: 'bw' }, op: '<', limitPercent: -5 });
  t.same(parseThreshold('p99>+10%'), { text: 'p99>+10%', metric: { kind: 'percentile', q: 99 }, op: '>', limitPercent: 10 });
  t.same(parseThreshold('p99.9>+10%').metric, { kind: 'percentile', q: 99.9 });
  t.same(parseThreshold('p50>+5%').metric, { kind: 'percentile', q: 50 });
  t.same(parseThreshold('cpu>+10%').metric, { kind: 'cpu' });
  t.same(parseThreshold('p99.99 > 2.5 %'), { text: 'p99.99 > 2.5 %', metric: { kind: 'percentile', q: 99.99 }, op: '>', limitPercent: 2.5 });
  t.same(parseThreshold('write.p99>+10%').direction, 'write');
  t.same(parseThreshold('read.iops<-1%').direction, 'read');
});

t.test('a threshold breaks only beyond its limit, on its side', async (t) => {
  const drop = parseThreshold('iops<-5%');
  t.equal(breaks(drop, -5.1), true);
  t.equal(breaks(drop, -5), false);
  t.equal(breaks(drop, +40), false);
  const rise = parseThreshold('p99>+10%');
  t.equal(breaks(rise, 10.01), true);
  t.equal(breaks(rise, 10), false);
  t.equal(breaks(rise, -50), false);
});

t.test('malformed thresholds are usage errors naming the accepted forms', async (t) => {
  for (const bad of ['iops<-5', 'iops=-5%', 'iops<<-5%', 'lat<+5%', 'p<+5%', 'p100>+1%', 'p0>+1%', 'read.cpu>+1%', 'up.iops<-1%', '', 'iops<-5%%', 'iops<five%']) {
    let caught: unknown;
    try {
      parseThreshold(bad);
    } catch (e) {
      caught = e;
    }
    t.ok(caught instanceof CompareUsageError && caught.code === 'PHYR_COMPARE_USAGE' && caught.message.includes(`'${bad}'`), `'${bad}' is refused: ${String(caught)}`);
  }
  t.throws(() => parseThreshold('iops<-5'), { message: new RegExp(THRESHOLD_FORMS.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) });
  t.throws(() => parseThreshold('read.cpu>+1%'), { message: /cpu is per job/ });
});
