// The TypeScript twins in spec/*.ts are generated from the spec headers by spec/generate.js;
// the addon exports the same lists as the compiler read them. Comparing the two, list by
// list and name by name, shows that the generator read the headers the compiler read (a
// stale twin, a header the generator misparsed or a list missing on one side fails here).
import t from 'tap';
import { addonRoom } from '../../lib/native';
import { NVME } from '../../spec/nvme';

interface ParsedList {
  macro: string;
  exportName: string;
  flat: boolean;
  entries: { name?: string; value?: number }[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { readSpec } = require('../../spec/generate.js') as { readSpec(): { header: string; twin: string; lists: ParsedList[] }[] };

const nvmeSpec = addonRoom<Record<string, number>>('nvmeSpec');
const compiled = addonRoom<Record<string, Record<string, number>>>('specLists');
const headers = readSpec();

t.test('every C++ NVMe constant exists in the generated NVME with the same value', async (t) => {
  const ts = NVME as Record<string, number>;
  for (const [name, value] of Object.entries(nvmeSpec)) t.equal(ts[name], value, name);
});

t.test('every generated NVME constant exists in C++', async (t) => {
  const missing = Object.keys(NVME).filter((name) => !(name in nvmeSpec));
  t.same(missing, [], 'constants only in spec/nvme.ts');
  t.ok(Object.keys(NVME).length > 100, 'the list is the full one');
});

t.test('the compiled addon and the generator see the same lists', async (t) => {
  const parsed = headers.flatMap((h) => h.lists.map((l) => l.macro)).sort();
  t.same(Object.keys(compiled).sort(), parsed, 'list macros');
});

for (const h of headers) {
  t.test(`spec/${h.twin} matches the compiled spec/${h.header}`, async (t) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const twin = require(`../../spec/${h.twin.replace(/\.ts$/, '')}`) as Record<string, unknown>;
    for (const list of h.lists) {
      const native = compiled[list.macro] ?? {};
      const ts = (list.flat ? twin : twin[list.exportName]) as Record<string, number> | undefined;
      t.ok(ts, `${list.exportName} is exported`);
      const names = list.entries.flatMap((e) => (e.name ? [e.name] : []));
      t.same(names.slice().sort(), Object.keys(native).sort(), `${list.macro}: the same names`);
      for (const name of names) t.equal(ts?.[name], native[name], `${list.macro}.${name}`);
      if (!list.flat) t.same(Object.keys(ts ?? {}).sort(), names.slice().sort(), `${list.exportName} holds nothing else`);
    }
  });
}
