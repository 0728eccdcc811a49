// spec/nvme.ts (TypeScript) and spec/nvme.h (C++) are the two sources
// of truth for NVMe constants; they must agree name by name.
import t from 'tap';
import { addonRoom } from '../../lib/native';
import { NVME } from '../../spec/nvme';

const native = addonRoom<Record<string, number>>('nvmeSpec');

t.test('every C++ constant exists in TypeScript with the same value', async (t) => {
  const ts = NVME as Record<string, number>;
  for (const [name, value] of Object.entries(native)) t.equal(ts[name], value, name);
});

t.test('every TypeScript constant exists in C++', async (t) => {
  const missing = Object.keys(NVME).filter((name) => !(name in native));
  t.same(missing, [], 'constants only in spec.ts');
  t.ok(Object.keys(NVME).length > 100, 'the list is the full one');
});
