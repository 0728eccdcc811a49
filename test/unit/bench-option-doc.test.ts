// docs/BENCH.md's per-option table is the one generated from the option tables.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { optionTableMarkdown, optionTableRows, withOptionTable } from '../../bench/cli/option-doc';
import { DEFAULT_ONLY } from '../../bench/cli/fio-defaults';
import { UNSUPPORTED } from '../../bench/cli/options';

const DOC = path.resolve(__dirname, '../../docs/BENCH.md');

t.test('docs/BENCH.md carries the generated option table, unchanged', async (t) => {
  const doc = fs.readFileSync(DOC, 'utf8');
  t.ok(doc.includes(optionTableMarkdown()), 'the table matches bench/cli (regenerate: nice -n 19 npm run build:ts && node dist/bench/cli/option-doc.js --write docs/BENCH.md)');
  t.equal(withOptionTable(doc), doc);
});

t.test('every option has a row; refused ones carry their reason', async (t) => {
  const rows = optionTableRows();
  for (const name of ['bs', 'ioengine', 'hipri', 'randrepeat', 'nrfiles', 'rate_iops', 'section', 'parse-only', 'showcmd']) t.ok(rows.some((r) => r.name.startsWith(`\`${name}\``)), name);
  for (const [name, why] of Object.entries(UNSUPPORTED)) {
    const r = rows.find((x) => x.name === `\`${name}\``);
    t.ok(r && r.what.includes(why) && (r.treatment === 'refused') === !(name in DEFAULT_ONLY), name);
  }
});
