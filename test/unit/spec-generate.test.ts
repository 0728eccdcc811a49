// spec/generate.js reads the X-macro lists of the spec headers exactly or refuses them
// with file:line; its output is the TypeScript twin the driver imports.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import t from 'tap';

interface Entry {
  name?: string;
  value?: number;
  comment?: string;
  section?: string;
}
interface List {
  macro: string;
  exportName: string;
  flat: boolean;
  bits: boolean;
  entries: Entry[];
}
interface Generator {
  parseHeader(file: string, text?: string): List[];
  renderTwin(h: { header: string; twin: string; lists: List[] }): string;
  readSpec(dir?: string): { header: string; twin: string; lists: List[] }[];
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const gen = require('../../spec/generate.js') as Generator;
const SPEC = path.resolve(__dirname, '..', '..', 'spec');
const fake = path.join(SPEC, 'fixture.h'); // never written: the text is passed in

const parse = (text: string): List[] => gen.parseHeader(fake, text);

t.test('a well-formed list parses exactly', async (t) => {
  const lists = parse(
    [
      '#pragma once',
      '// ts-twin: THINGS keys ThingName -- Some things',
      '#define THING_LIST(X) \\',
      '  /* first group */ X(ONE, 0x1) X(TWO, 2u) \\',
      '  /* a comment that \\',
      '     spans lines */ X(BIG, 0xFFFFFFFFull)',
      '// ts-twin: BITS bits',
      '#define BIT_LIST(X) \\',
      '  X(LOW, 0) X(HIGH, 31)',
    ].join('\n'),
  );
  t.equal(lists.length, 2);
  t.same(
    lists[0].entries.filter((e) => e.name).map((e) => [e.name, e.value, e.section]),
    [
      ['ONE', 1, 'first group'],
      ['TWO', 2, 'first group'],
      ['BIG', 0xffffffff, 'a comment that spans lines'],
    ],
  );
  t.same(lists[1].entries.map((e) => e.value), [1, 2 ** 31]);
  const ts = gen.renderTwin({ header: 'fixture.h', twin: 'fixture.ts', lists });
  t.match(ts, /^\/\/ Generated from spec\/fixture\.h by spec\/generate\.js/);
  t.match(ts, /export const THINGS = \{\n {2}\/\/ first group\n {2}ONE: 0x1,\n {2}TWO: 2,/);
  t.match(ts, /export type ThingName = keyof typeof THINGS;/);
  t.match(ts, /HIGH: 0x80000000, \/\/ bit 31/);
});

t.test('anything else is refused with file:line', async (t) => {
  const bad: [string, RegExp][] = [
    ['#define LIST(X) \\\n  X(A, 1)', /fixture\.h:1: list LIST has no "\/\/ ts-twin: EXPORT" line/],
    ['// ts-twin: L\n#define LIST(X) \\\n  X(A, 1 << 2)', /fixture\.h:3: value "1 << 2" of A is not a decimal or hex integer literal/],
    ['// ts-twin: L\n#define LIST(X) \\\n  X(A, FOO)', /fixture\.h:3: value "FOO" of A is not a decimal or hex integer literal/],
    ['// ts-twin: L\n#define LIST(X) \\\n  X(a, 1)', /fixture\.h:3: name "a" is not upper case/],
    ['// ts-twin: L\n#define LIST(X) \\\n  X(A, 1) \\\n  X(A, 2)', /fixture\.h:4: A appears twice/],
    ['// ts-twin: L\n#define LIST(X) \\\n  X(A, 1) int x;', /fixture\.h:3: expected X\(NAME, VALUE\) or a \/\* comment \*\/ in list LIST, found "int x;"/],
    ['// ts-twin: L\n#define LIST(X) X(A, 1)', /fixture\.h:2: the #define line must end in a backslash/],
    ['// ts-twin: L\nint x;', /fixture\.h:2: the ts-twin directive must be followed by/],
    ['// ts-twin: L sorted\n#define LIST(X) \\\n  X(A, 1)', /fixture\.h:1: directive not understood/],
    ['// ts-twin: L bits\n#define LIST(X) \\\n  X(A, 32)', /fixture\.h:3: bit number 32 of A is above 31/],
    ['// ts-twin: L\n#define LIST(X) \\\n  X(A, 0x20000000000000)', /fixture\.h:3: value of A is above 2\^53 - 1/],
    ['// ts-twin: L\n#define LIST(X) \\\n  /* open \\\n  X(A, 1)', /fixture\.h:4: comment not closed/],
    ['  #  define LIST(X) \\\n  X(A, 1)', /fixture\.h:1: an X-macro list must be written "#define NAME\(X\) \\" at the start/],
  ];
  for (const [text, why] of bad) t.throws(() => parse(text), why, text.split('\n').pop() ?? text);
});

t.test('the twins on disk are the ones the headers give (--check)', async (t) => {
  const r = spawnSync(process.execPath, [path.join(SPEC, 'generate.js'), '--check'], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  for (const h of gen.readSpec()) t.match(fs.readFileSync(path.join(SPEC, h.twin), 'utf8'), `Generated from spec/${h.header}`);
});
