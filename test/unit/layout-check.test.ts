// The layout check (test/layout/check-imports.js) over small trees built in a temporary
// directory: a clean tree passes, and each planted break of the one-way layers is
// reported at its file and line with both rooms and ranks.
import t, { type Test } from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const CHECK = path.join(__dirname, '..', 'layout', 'check-imports.js');

type Tree = Record<string, string>;

// A tree that follows every rule: each room imports only lower ranks, C++ includes are
// written from the repository root, the examples use the package entry only.
const CLEAN: Tree = {
  'package.json': '{ "name": "phyr" }\n',
  'spec/nvme.h': '#pragma once\n',
  'spec/nvme.ts': 'export const OPC_READ = 2;\n',
  'lib/errors.ts': [
    "import * as fs from 'fs';",
    "// import { x } from '../tools/cli'; (a comment is not an import)",
    "/* require('../bench/run') */",
    "const url = 'http://example.invalid/a//b';",
    "const re = /\\/\\//;",
    "export const s = `${url} ${re.source} require('../tools/cli')`;",
    "export { OPC_READ } from '../spec/nvme';",
    '',
  ].join('\n'),
  'addon/registry.h': '#pragma once\n#include "spec/nvme.h"\n',
  'addon/vfio/ops.cc': '#include "addon/registry.h"\n#include "local.h"\n#include <vector>\n#include "napi.h"\nconstexpr int kN = 50\'000;\n',
  'addon/vfio/local.h': '#pragma once\n',
  'emu/memory.ts': "import { s } from '../lib/errors';\nexport const m = s;\n",
  'emu/native/queues.cc': '#include "spec/nvme.h"\n#include "addon/registry.h"\n',
  'drivers/nvme/controller.ts': "import type { OPC_READ } from '../../spec/nvme';\nimport { s } from '../../lib/errors.js';\nexport const c: typeof OPC_READ = 2;\nexport const d = s;\n",
  'drivers/nvme/index.ts': "export { c } from './controller';\n",
  'drivers/nvme/native/prp.cc': '#include "drivers/nvme/native/prp.h"\n#include "prp.h"\n#include "addon/registry.h"\n',
  'drivers/nvme/native/prp.h': '#pragma once\n#include "spec/nvme.h"\n',
  'targets/open.ts': "import { m } from '../emu/memory';\nimport { c } from '../drivers/nvme';\nexport const o = [m, c];\n",
  'conformance/case.ts': "const { c } = require('../drivers/nvme');\nexport const k = c;\n",
  'bench/cli/run.ts': "export async function go() { return import('../../targets/open'); }\n",
  'index.ts': "export * from './targets/open';\nexport { c } from './drivers/nvme';\n",
  'tools/phyr.ts': "import { o } from '../index';\nimport { go } from '../bench/cli/run';\nexport const p = [o, go];\n",
  'examples/read.ts': "import * as crypto from 'crypto';\nimport * as p from 'node:path';\nimport * as phyr from '../index';\nimport * as pkg from 'phyr';\nimport { helper } from './helper';\nexport const e = [crypto, p, phyr, pkg, helper];\n",
  'examples/helper.ts': 'export const helper = 1;\n',
  // test/ is exempt as importer: it may reach anywhere.
  'test/unit/x.test.ts': "import { p } from '../../tools/phyr';\nimport { nope } from '../../lib/nope';\n",
};

function build(t: Test, tree: Tree): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-layout-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  for (const [file, text] of Object.entries(tree)) {
    fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

function check(root: string, ...args: string[]): { status: number | null; lines: string[] } {
  const r = spawnSync(process.execPath, [CHECK, '--root', root, ...args], { encoding: 'utf8' });
  return { status: r.status, lines: r.stdout.split('\n').filter(Boolean) };
}

// The violations reported (every line but the closing count).
function violations(t: Test, tree: Tree): string[] {
  const r = check(build(t, tree));
  if (r.status !== 1) throw new Error(`expected exit 1, got ${r.status}: ${r.lines.join('\n')}`);
  const last = r.lines.pop() ?? '';
  if (!/^layout: \d+ violation\(s\)/.test(last)) throw new Error(`no closing count: ${last}`);
  return r.lines;
}

t.test('a clean tree passes with a one-line summary', async (t) => {
  const r = check(build(t, CLEAN));
  t.equal(r.status, 0, r.lines.join('\n'));
  t.same(r.lines.length, 1);
  t.match(r.lines[0], /^layout: clean: 19 files, \d+ file edges, 12 rooms$/);
});

t.test('an upward import is reported at its line with both rooms and ranks', async (t) => {
  const got = violations(t, {
    ...CLEAN,
    'tools/cli.ts': 'export const cli = 1;\n',
    'lib/errors.ts': `${CLEAN['lib/errors.ts']}import { cli } from '../tools/cli';\nexport const z = cli;\n`,
  });
  t.same(got, ["lib/errors.ts:8: imports '../tools/cli' (tools/cli.ts): lib+addon (rank 1) -> tools (rank 6): upward import"]);
});

t.test('emu and drivers/nvme never import each other, type-only and C++ included', async (t) => {
  const got = violations(t, {
    ...CLEAN,
    'emu/memory.ts': "import { s } from '../lib/errors';\nimport type { c } from '../drivers/nvme/controller';\nexport const m = s;\n",
    'emu/native/queues.h': '#pragma once\n',
    'drivers/nvme/native/prp.cc': '#include "drivers/nvme/native/prp.h"\n\n#include "emu/native/queues.h"\n',
  });
  t.same(got, [
    "emu/memory.ts:2: imports '../drivers/nvme/controller' (type only) (drivers/nvme/controller.ts): emu (rank 2) -> drivers/nvme (rank 2): sibling import",
    'drivers/nvme/native/prp.cc:3: includes "emu/native/queues.h" (emu/native/queues.h): drivers/nvme (rank 2) -> emu (rank 2): sibling import',
  ]);
});

t.test('other rooms reach the driver only through its entry drivers/nvme/index.ts', async (t) => {
  const got = violations(t, { ...CLEAN, 'conformance/case.ts': "import { c } from '../drivers/nvme/controller';\nexport const k = c;\n" });
  t.same(got, [
    "conformance/case.ts:1: imports '../drivers/nvme/controller' (drivers/nvme/controller.ts): conformance (rank 3) -> drivers/nvme (rank 2): import drivers/nvme through its entry drivers/nvme/index.ts, not a module inside it",
  ]);
});

t.test('a three-file circle is printed as its path, each hop with its line', async (t) => {
  const got = violations(t, {
    ...CLEAN,
    'drivers/nvme/a.ts': "import { b } from './b';\nexport const a = () => b;\n",
    'drivers/nvme/b.ts': "// b needs c\nimport { c } from './c';\nexport const b = () => c;\n",
    'drivers/nvme/c.ts': "export const c = () => 0;\nexport type A = typeof import('./a');\n",
  });
  t.same(got, ['drivers/nvme/a.ts:1: import circle of 3 files in drivers/nvme (rank 2): drivers/nvme/a.ts:1 -> drivers/nvme/b.ts:2 -> drivers/nvme/c.ts:2 -> drivers/nvme/a.ts']);
});

t.test('a circle of C++ headers is found in the include graph', async (t) => {
  const got = violations(t, {
    ...CLEAN,
    'addon/x.h': '#pragma once\n#include "addon/y.h"\n',
    'addon/y.h': '#pragma once\n#include "x.h"\n',
  });
  t.same(got, ['addon/x.h:2: include circle of 2 files in lib+addon (rank 1): addon/x.h:2 -> addon/y.h:2 -> addon/x.h']);
});

t.test('a C++ include that reaches another room by a bare name is an include by room', async (t) => {
  const got = violations(t, {
    ...CLEAN,
    'drivers/nvme/native/prp.cc': '#include "drivers/nvme/native/prp.h"\n#include "registry.h"\n#include "../../../addon/registry.h"\n',
  });
  t.same(got, [
    'drivers/nvme/native/prp.cc:2: includes "registry.h" (addon/registry.h): drivers/nvme (rank 2) -> lib+addon (rank 1): include by room: write "addon/registry.h"',
    'drivers/nvme/native/prp.cc:3: includes "../../../addon/registry.h" (addon/registry.h): drivers/nvme (rank 2) -> lib+addon (rank 1): include by room: write "addon/registry.h"',
  ]);
});

t.test('a bare include name that two files answer to is reported', async (t) => {
  const got = violations(t, {
    ...CLEAN,
    'addon/eventfd/ops.h': '#pragma once\n',
    'addon/memory/ops.h': '#pragma once\n',
    'addon/registry.h': '#pragma once\n#include "spec/nvme.h"\n#include "ops.h"\n',
  });
  t.same(got, ['addon/registry.h:3: includes "ops.h" (addon/eventfd/ops.h): lib+addon (rank 1) -> lib+addon (rank 1): the bare name also matches addon/memory/ops.h']);
});

t.test('an import or include of a file that does not exist is reported', async (t) => {
  const got = violations(t, {
    ...CLEAN,
    'tools/phyr.ts': `${CLEAN['tools/phyr.ts']}import { q } from '../drivers/nvme/queue-pear';\n`,
    'emu/native/queues.cc': '#include "spec/nvme.h"\n#include "spec/nvm.h"\n',
  });
  t.same(got, [
    "tools/phyr.ts:4: imports '../drivers/nvme/queue-pear', which does not exist (drivers/nvme/queue-pear): tools (rank 6) -> drivers/nvme (rank 2)",
    'emu/native/queues.cc:2: includes "spec/nvm.h", which does not exist (spec/nvm.h): emu (rank 2) -> spec (rank 0)',
  ]);
});

t.test('the examples use the package entry and node built-ins only', async (t) => {
  const got = violations(t, {
    ...CLEAN,
    'examples/read.ts': "import * as phyr from '../index';\nimport { c } from '../drivers/nvme/controller';\nimport t, { type Test } from 'tap';\nexport const e = [phyr, c, t];\n",
  });
  t.same(got, [
    "examples/read.ts:2: imports '../drivers/nvme/controller' (drivers/nvme/controller.ts): examples (rank 7) -> drivers/nvme (rank 2): examples may import only entry",
    "examples/read.ts:3: imports 'tap': examples may import only entry and node built-ins",
  ]);
});

t.test('a room file importing a file outside every room is reported', async (t) => {
  const got = violations(t, {
    ...CLEAN,
    'test/helpers/h.ts': 'export const h = 1;\n',
    'bench/cli/run.ts': "import { h } from '../../test/helpers/h';\nexport const r = h;\n",
  });
  t.same(got, ["bench/cli/run.ts:1: imports '../../test/helpers/h' (test/helpers/h.ts): bench (rank 5) -> outside every room: imports a file outside every room"]);
});

t.test('--rooms prints the room map and --graph the room-to-room edge counts', async (t) => {
  const root = build(t, { ...CLEAN, 'lib/up.ts': "export { o } from '../targets/open';\n" });
  const rooms = check(root, '--rooms');
  t.equal(rooms.status, 0);
  t.match(rooms.lines[0], /^ 0 {2}spec /);
  t.ok(rooms.lines.some((l) => /^ 7 {2}examples +examples +imports only entry/.test(l)));
  const graph = check(root, '--graph');
  t.equal(graph.status, 0);
  t.ok(graph.lines.some((l) => /^lib\+addon +-> targets +1 {2}!$/.test(l)), 'the upward edge is marked');
  t.ok(graph.lines.some((l) => /^tools +-> entry +1$/.test(l)), 'a downward edge is counted, unmarked');
});
