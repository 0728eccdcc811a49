#!/usr/bin/env node
// Writes the TypeScript twins of the spec headers: spec/NAME.ts from spec/NAME.h. The
// headers are the one source of the NVMe, PCI, phyr and shared record layouts; the C++
// compiler reads them directly and TypeScript reads what this script derives from them,
// so there is no second copy to keep in step by hand.
//
// The format is strict so the parse is exact. A list is
//   // ts-twin: EXPORT [flat] [bits] [keys TYPE] [-- doc]
//   #define LIST_NAME(X) \
//     /* a section comment */ X(NAME, 0x1F) X(OTHER, 12) \
//     X(LAST, 3)
// - the directive line comes right before the #define, and every (X) list has one;
// - each body line but the last ends in a backslash; the body holds only X(NAME, VALUE)
//   entries and /* */ comments (which may span lines);
// - NAME is upper case ([A-Z][A-Z0-9_]*), unique in its list; VALUE is a decimal or hex
//   integer literal with an optional u/ull suffix, at most 2^53 - 1;
// - `flat` exports each entry as its own `export const NAME`, otherwise one object EXPORT;
// - `bits` means VALUE is a bit number (0..31) and TypeScript gets 1 << VALUE;
// - `keys TYPE` also exports `type TYPE = keyof typeof EXPORT`.
// Anything else is refused with file:line. The parsed lists are also this module's
// export (readSpec), so other checks read the same tables the twins are made of.
//   node spec/generate.js            write every twin
//   node spec/generate.js --check    exit 1 when a twin is missing or stale
'use strict';
const fs = require('fs');
const path = require('path');

const SPEC_DIR = __dirname;

/** A header the parser refused; message is "file:line: why". */
class SpecFormatError extends Error {}

const DIRECTIVE = /^\/\/ ts-twin: ([A-Za-z_][A-Za-z0-9_]*)((?: (?:flat|bits|keys [A-Za-z_][A-Za-z0-9_]*))*)(?: -- (.+))?$/;
const DEFINE_LIST = /^#define ([A-Z_][A-Z0-9_]*)\(X\)(.*)$/;
const NAME = /^[A-Z][A-Z0-9_]*$/;
const VALUE = /^(0[xX][0-9A-Fa-f]+|0|[1-9][0-9]*)(?:u|U|ull|ULL)?$/;

// Parses one header: returns its lists in order.
function parseHeader(file, text = fs.readFileSync(file, 'utf8')) {
  const rel = path.relative(path.dirname(SPEC_DIR), file);
  const lines = text.split('\n');
  const lists = [];
  const fail = (lineNo, why) => {
    throw new SpecFormatError(`${rel}:${lineNo}: ${why}`);
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const isDirective = line.startsWith('// ts-twin:');
    const define = DEFINE_LIST.exec(line);
    if (!isDirective && !define) {
      if (/^\s*#\s*define\s+\w+\s*\(\s*X\s*\)/.test(line)) fail(i + 1, 'an X-macro list must be written "#define NAME(X) \\" at the start of the line');
      continue;
    }
    if (define) fail(i + 1, `list ${define[1]} has no "// ts-twin: EXPORT" line right before it`);
    const d = DIRECTIVE.exec(line);
    if (!d) fail(i + 1, 'directive not understood: "// ts-twin: EXPORT [flat] [bits] [keys TYPE] [-- doc]"');
    const opts = d[2].trim();
    const keys = /keys (\w+)/.exec(opts);
    const list = {
      file: rel,
      line: i + 2,
      exportName: d[1],
      flat: /\bflat\b/.test(opts),
      bits: /\bbits\b/.test(opts),
      keysType: keys ? keys[1] : null,
      doc: d[3] ?? null,
      macro: '',
      entries: [],
    };
    if (list.flat && list.keysType) fail(i + 1, 'a flat list exports no object, so it can have no keys type');
    i++;
    const def = DEFINE_LIST.exec(lines[i] ?? '');
    if (!def) fail(i + 1, 'the ts-twin directive must be followed by "#define NAME(X) \\"');
    list.macro = def[1];
    if (def[2].trim() !== '\\') fail(i + 1, 'the #define line must end in a backslash and hold nothing else');
    // Body: lines ending in a backslash, then one last line without.
    let inComment = false;
    let comment = [];
    let section = ''; // the last comment: the group an entry belongs to
    for (;;) {
      i++;
      if (i >= lines.length) fail(i, `list ${list.macro} runs to the end of the file`);
      let body = lines[i];
      const continued = /\\\s*$/.test(body);
      if (continued) body = body.replace(/\\\s*$/, '');
      let rest = body;
      while (rest.length) {
        if (inComment) {
          const end = rest.indexOf('*/');
          comment.push((end < 0 ? rest : rest.slice(0, end)).trim());
          if (end < 0) break;
          rest = rest.slice(end + 2);
          inComment = false;
          section = comment.filter(Boolean).join(' ');
          list.entries.push({ comment: section, line: i + 1 });
          comment = [];
          continue;
        }
        rest = rest.replace(/^\s+/, '');
        if (!rest.length) break;
        if (rest.startsWith('/*')) {
          inComment = true;
          rest = rest.slice(2);
          continue;
        }
        const m = /^X\(\s*([^,()]*?)\s*,\s*([^,()]*?)\s*\)/.exec(rest);
        if (!m) fail(i + 1, `expected X(NAME, VALUE) or a /* comment */ in list ${list.macro}, found "${rest.trim().slice(0, 40)}"`);
        if (!NAME.test(m[1])) fail(i + 1, `name "${m[1]}" is not upper case ([A-Z][A-Z0-9_]*)`);
        const v = VALUE.exec(m[2]);
        if (!v) fail(i + 1, `value "${m[2]}" of ${m[1]} is not a decimal or hex integer literal`);
        const value = Number(v[1].toLowerCase().startsWith('0x') ? BigInt(v[1]) : BigInt(v[1]));
        if (!Number.isSafeInteger(value)) fail(i + 1, `value of ${m[1]} is above 2^53 - 1`);
        if (list.bits && value > 31) fail(i + 1, `bit number ${value} of ${m[1]} is above 31`);
        if (list.entries.some((e) => e.name === m[1])) fail(i + 1, `${m[1]} appears twice in list ${list.macro}`);
        list.entries.push({ name: m[1], value: list.bits ? 2 ** value : value, literal: v[1], bit: list.bits ? value : undefined, section, line: i + 1 });
        rest = rest.slice(m[0].length);
      }
      if (!continued) {
        if (inComment) fail(i + 1, 'comment not closed at the end of the list');
        break;
      }
    }
    if (!list.entries.some((e) => e.name)) fail(list.line, `list ${list.macro} has no entries`);
    lists.push(list);
  }
  return lists;
}

/** Every list of every spec/*.h, by header: [{ header, twin, lists }]. */
function readSpec(dir = SPEC_DIR) {
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.h'))
    .sort()
    .map((n) => ({ header: n, twin: n.replace(/\.h$/, '.ts'), lists: parseHeader(path.join(dir, n)) }))
    .filter((h) => h.lists.length > 0);
}

// Breaks a comment into lines of at most 100 characters.
function wrap(text, prefix) {
  const lines = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && prefix.length + line.length + 1 + word.length > 100) {
      lines.push(prefix + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(prefix + line);
  return lines.join('\n');
}

const hex = (v) => `0x${v.toString(16).toUpperCase()}`;

// The TypeScript text of one header's lists.
function renderTwin(h) {
  const out = [
    `// Generated from spec/${h.header} by spec/generate.js: do not edit, and do not commit.`,
    `// Change the header; \`npm run build:ts\`, \`npm install\` and \`node spec/generate.js\``,
    '// write this file again.',
  ];
  const names = new Set();
  for (const list of h.lists) {
    if (names.has(list.exportName)) throw new SpecFormatError(`spec/${h.header}:${list.line - 1}: export ${list.exportName} is defined twice`);
    names.add(list.exportName);
    out.push('');
    const entryLine = (e, indent) => {
      if (e.comment !== undefined) return wrap(e.comment, `${indent}// `);
      // A value is written as the header writes it; a bit number becomes its mask.
      const v = list.bits ? `${hex(e.value)}, // bit ${e.bit}` : `${e.literal},`;
      return list.flat ? `${indent}export const ${e.name} = ${v.replace(/,/, ';')}` : `${indent}${e.name}: ${v}`;
    };
    if (list.flat) {
      if (list.doc) out.push(`// ${list.doc} (${list.macro})`);
      for (const e of list.entries) {
        if (e.name && names.has(e.name)) throw new SpecFormatError(`${list.file}:${e.line}: export ${e.name} is defined twice`);
        if (e.name) names.add(e.name);
        out.push(entryLine(e, ''));
      }
      continue;
    }
    out.push(`/** ${list.doc ?? list.exportName} (${list.macro}). */`);
    out.push(`export const ${list.exportName} = {`);
    for (const e of list.entries) out.push(entryLine(e, '  '));
    out.push('} as const;');
    if (list.keysType) {
      out.push('', `/** Name of one entry of ${list.exportName}. */`, `export type ${list.keysType} = keyof typeof ${list.exportName};`);
    }
  }
  return out.join('\n') + '\n';
}

function main() {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const h of readSpec()) {
    const file = path.join(SPEC_DIR, h.twin);
    const text = renderTwin(h);
    const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    if (old === text) continue;
    if (check) {
      console.error(`spec/${h.twin} is ${old === null ? 'missing' : 'stale'}: run node spec/generate.js`);
      stale++;
    } else {
      fs.writeFileSync(file, text);
    }
  }
  if (stale) process.exit(1);
}

module.exports = { readSpec, parseHeader, renderTwin, SpecFormatError };

if (require.main === module) {
  try {
    main();
  } catch (e) {
    if (!(e instanceof SpecFormatError)) throw e;
    console.error(e.message);
    process.exit(1);
  }
}
