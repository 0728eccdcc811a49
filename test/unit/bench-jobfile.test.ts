// fio INI job files: sections, comments, flags, environment expansion, errors with lines.
import t from 'tap';
import { parseJobFile } from '../../bench/cli/jobfile';

t.test('sections, options, flags and comments', async (t) => {
  const text = [
    '; a comment',
    '# another',
    '[global]',
    'bs=4k ; trailing comment',
    'time_based',
    '',
    '[reader]',
    '  rw = randread  ',
    'iodepth=32 # depth',
    '[writer]',
    'rw=write',
  ].join('\n');
  const s = parseJobFile(text, 'x.fio', {});
  t.same(s.map((x) => [x.name, x.global]), [['global', true], ['reader', false], ['writer', false]]);
  t.same(s[0].options.map((o) => [o.key, o.value]), [['bs', '4k'], ['time_based', undefined]]);
  t.same(s[1].options.map((o) => [o.key, o.value, o.line]), [['rw', 'randread', 8], ['iodepth', '32', 9]]);
});

t.test('${VAR} expands from the environment, in option names too; CRLF is fine', async (t) => {
  const s = parseJobFile('[j]\r\nsize=${SIZE}\r\n${OPT}=4k\r\n', 'x.fio', { SIZE: '1g', OPT: 'bs' });
  t.same(s[0].options.map((o) => [o.key, o.value]), [['size', '1g'], ['bs', '4k']]);
  // fio leaves an unset variable in place and then fails to parse the value: an error here too.
  t.throws(() => parseJobFile('[j]\nbs=${NOPE}\n', 'x.fio', { SIZE: '1g' }), /x\.fio:2: environment variable NOPE is not set/);
});

t.test('errors name the file and line', async (t) => {
  t.throws(() => parseJobFile('bs=4k\n[j]\n', 'a.fio'), /a\.fio:1: 'bs=4k' comes before any \[section\]/);
  t.throws(() => parseJobFile('[]\n', 'a.fio'), /a\.fio:1: empty section name/);
  t.throws(() => parseJobFile('[j]\ninclude /nonexistent/other.fio\n', 'a.fio'), /a\.fio:2: include \/nonexistent\/other\.fio: no such file/);
  t.throws(() => parseJobFile('[j]\n=4k\n', 'a.fio'), /a\.fio:2: '' is not an option name/);
});

t.test('a [global] after a job applies to later jobs only (via config)', async (t) => {
  const s = parseJobFile('[a]\n[global]\nbs=8k\n[b]\n', 'x.fio', {});
  t.same(s.map((x) => x.name), ['a', 'global', 'b']);
});
