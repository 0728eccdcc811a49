// significant_figures and fio's number formatting in the normal output, next to real fio
// (psync on a regular file of the namespace's size): the byte counts are the same in both
// runs, so the group line's io= and the direction line's (bytes/...) are compared as
// text, at fio's default and at other widths.
import t from 'tap';
import { parseBenchArgs } from '../../bench/cli/config';
import { fioOracle } from '../helpers/fio-oracle';

const oracle = fioOracle(t, 'sigfig', { nsBytes: 16 << 20 });

// "io=16.0MiB (16.8MB)" of the group line, and "(16.0MiB/" of the direction line.
function sizes(out: string): string[] {
  return [/io=[^,]*/.exec(out)?.[0] ?? 'no io=', /\)\(([^/]*)\//.exec(out)?.[1] ?? 'no (bytes/'];
}

t.test('the normal output\'s sizes read as fio\'s, at each significant_figures', async (t) => {
  for (const size of ['16m', '12m', '1m', '3m', '512']) {
    for (const sig of [undefined, 1, 3, 5, 10]) {
      const args = ['--name=s', '--rw=read', `--bs=${size === '512' ? '512' : '4k'}`, `--size=${size}`, ...(sig ? [`--significant_figures=${sig}`] : [])];
      const f = sizes(oracle.fio(args));
      t.same(sizes(oracle.phyr(args)), f, `${args.join(' ')}: ${f.join(', ')}`);
    }
  }
});

t.test('significant_figures outside 1..10 is refused', async (t) => {
  t.throws(() => parseBenchArgs(['--name=a', '--significant_figures=0']), /significant_figures.*between 1 and 10/);
  t.throws(() => parseBenchArgs(['--name=a', '--significant_figures=11']), /significant_figures.*between 1 and 10/);
  t.equal(parseBenchArgs(['--name=a', '--significant_figures=6']).jobs[0].significantFigures, 6);
});
