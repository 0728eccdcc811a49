// The modules the data path reads on every IO export their constants as plain data
// properties. A re-export (`export { X } from`) compiles to a getter on the exports
// object; read per IO through the queue pair, such getters doubled the batch API's CPU per
// IO (bench/driver-api.js: 92 -> 227 ns JS thread CPU per IO). The matrix measures the
// cost; this test keeps the shape that avoids it.
import t from 'tap';
import * as path from 'path';

const HOT = ['drivers/nvme/batch', 'lib/phyr', 'spec/records', 'spec/phyr', 'spec/nvme'];

for (const mod of HOT) {
  t.test(`${mod} exports data properties, not getters`, async (t) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exportsObject = require(path.join(__dirname, '..', '..', mod)) as Record<string, unknown>;
    const names = Object.keys(exportsObject).filter((n) => n !== '__esModule');
    t.ok(names.length > 0, `${mod} exports something`);
    const getters = names.filter((n) => Object.getOwnPropertyDescriptor(exportsObject, n)?.get !== undefined);
    t.same(getters, [], `${mod}: exported through a getter: ${getters.join(', ') || 'none'}`);
  });
}
