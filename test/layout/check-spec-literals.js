#!/usr/bin/env node
// Fails when an NVMe opcode, status code, controller register offset or PCI config-space
// offset / command bit is written as a number outside spec/ and test/: every room takes
// those from spec/*.h (C++) or their generated twins (TypeScript), so a number in code is
// either a copy that can drift or a name that was not looked up.
//
// Precision comes from context: a number counts only where it denotes one of those things
// (an opcode field, comparison or case of an opcode switch; a status built, compared or
// passed to a status helper; the offset argument of a BAR read/write or a BAR pointer
// offset; a config-space offset, a command-register mask, a capability ID compared), and
// only when the spec tables (parsed from spec/*.h by spec/generate.js, the data the
// twins are made of) hold that value in that category. Comments and strings are skipped.
// A reserved opcode a conformance case sends on purpose (7Fh) is not in the tables, so it
// passes.
//   node test/layout/check-spec-literals.js [--root DIR]
// Prints file:line, the literal and the spec name to write instead; exits 1 on findings.
'use strict';
const fs = require('fs');
const path = require('path');
const { readSpec } = require('../../spec/generate.js');

const REPO = path.resolve(__dirname, '..', '..');
const SKIP_TOP = new Set(['spec', 'test', 'node_modules', 'build', 'dist', 'coverage', '.git', '.tap']);
const EXTENSIONS = /\.(ts|js|cjs|mjs|cc|h|cpp)$/;

// ---- the tables ---------------------------------------------------------------------

// Category -> value -> [{ ts, cpp }] names, built from the parsed headers.
function buildTables(specDir) {
  const cat = {};
  const add = (category, value, ts, cpp) => ((cat[category] ??= new Map()).get(value) ?? cat[category].set(value, []).get(value)).push({ ts, cpp });
  for (const h of readSpec(specDir)) {
    for (const list of h.lists) {
      for (const e of list.entries) {
        if (!e.name) continue;
        const ts = list.flat ? e.name : `${list.exportName}.${e.name}`;
        if (['PHYR_NVME_CONSTANTS', 'PHYR_PCI_CONSTANTS'].includes(list.macro)) {
          const cpp = `${list.macro === 'PHYR_PCI_CONSTANTS' ? 'pci' : 'nvme'}::${e.name}`;
          (cat.byName ??= new Map()).set(e.name, { value: e.value, ts, cpp });
        }
        if (list.macro === 'PHYR_NVME_CONSTANTS') {
          const cpp = `nvme::${e.name}`;
          if (/^(ADMIN|IO)_/.test(e.name) && e.name !== 'ADMIN_QID') add('opcode', e.value, ts, cpp);
          if (/^REG_/.test(e.name)) add('register', e.value, ts, cpp);
          if (/^SCT_/.test(e.name)) add('sct', e.value, ts, cpp);
          if (/^SC_/.test(e.name)) {
            add('sc', e.value, ts, cpp);
            if (/generic/i.test(e.section)) add('sc-generic', e.value, ts, cpp);
            if (/specific/i.test(e.section)) add('sc-specific', e.value, ts, cpp);
            if (/media/i.test(e.section)) add('sc-media', e.value, ts, cpp);
          }
        } else if (list.macro === 'PHYR_PCI_CONSTANTS') {
          const cpp = `pci::${e.name}`;
          if (/^CFG_/.test(e.name) && e.name !== 'CFG_SPACE_SIZE') add('config', e.value, ts, cpp);
          if (/^COMMAND_/.test(e.name)) add('command-bit', e.value, ts, cpp);
          if (/^CAP_ID_/.test(e.name)) add('cap-id', e.value, ts, cpp);
        }
      }
    }
  }
  return cat;
}

// ---- code without comments and strings ----------------------------------------------

// Blanks comments and string/char contents (keeping newlines, so lines stay where they
// are); template literal expressions stay code. C++ digit separators (1'000) are numbers.
function codeOnly(text, cpp) {
  const out = text.split('');
  const blank = (from, to) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  const n = text.length;
  const braces = []; // per open template expression: depth of { inside it
  let i = 0;
  let prev = ''; // last significant character (for regex literals)
  const scanString = (q, from) => {
    let j = from + 1;
    while (j < n && text[j] !== q && !(q !== '`' && text[j] === '\n')) {
      if (text[j] === '\\') j++;
      else if (q === '`' && text[j] === '$' && text[j + 1] === '{') return { end: j, expr: true };
      j++;
    }
    return { end: j, expr: false };
  };
  const template = (from) => {
    // from is just after ` or after the } closing an expression
    const r = scanString('`', from - 1);
    blank(from, r.end);
    if (r.expr) {
      braces.push(0);
      return r.end + 2;
    }
    return r.end + 1;
  };
  while (i < n) {
    const c = text[i];
    const d = text[i + 1];
    if (c === '/' && d === '/') {
      const e = text.indexOf('\n', i);
      blank(i, e < 0 ? n : e);
      i = e < 0 ? n : e;
      continue;
    }
    if (c === '/' && d === '*') {
      const e = text.indexOf('*/', i + 2);
      blank(i, e < 0 ? n : e + 2);
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (c === "'" && cpp && /[0-9A-Fa-f]/.test(text[i - 1] ?? '') && /[0-9A-Fa-f]/.test(d ?? '')) {
      i++; // digit separator
      continue;
    }
    if (c === '"' || c === "'") {
      const r = scanString(c, i);
      blank(i + 1, r.end);
      i = r.end + 1;
      prev = c;
      continue;
    }
    if (!cpp && c === '`') {
      i = template(i + 1);
      prev = '`';
      continue;
    }
    if (!cpp && c === '/' && (prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev))) {
      // a regular expression literal
      let j = i + 1;
      let cls = false;
      while (j < n && text[j] !== '\n' && (cls || text[j] !== '/')) {
        if (text[j] === '\\') j++;
        else if (text[j] === '[') cls = true;
        else if (text[j] === ']') cls = false;
        j++;
      }
      blank(i + 1, j);
      i = j + 1;
      prev = '/';
      continue;
    }
    if (braces.length) {
      if (c === '{') braces[braces.length - 1]++;
      else if (c === '}') {
        if (braces[braces.length - 1] === 0) {
          braces.pop();
          i = template(i + 1);
          prev = '`';
          continue;
        }
        braces[braces.length - 1]--;
      }
    }
    if (!/\s/.test(c)) prev = c;
    i++;
  }
  return out.join('');
}

// ---- the rules ----------------------------------------------------------------------

const LIT = String.raw`(0[xX][0-9A-Fa-f']+|\d[\d']*)(?:[uU]?[lL]{0,2})?\b`;
const num = (s) => Number(s.replace(/'/g, ''));
const CMP = String.raw`(?:===|!==|==|!=)`;

// Each rule: a regex over one line of code (group 'v' is the literal) and how to judge it.
// `zeroIsPlaceholder`: 0 there is a cleared field, not a command or a status.
const RULES = [
  { what: 'an opcode field', re: new RegExp(String.raw`\b(?:opcode|opc)\s*(?::|=(?!=))\s*(?<v>${LIT})`, 'g'), cat: 'opcode', zeroIsPlaceholder: true },
  { what: 'an opcode comparison', re: new RegExp(String.raw`\b(?:opcode|opc)\s*${CMP}\s*(?<v>${LIT})`, 'g'), cat: 'opcode' },
  { what: 'an opcode comparison', re: new RegExp(String.raw`(?<v>${LIT})\s*${CMP}\s*[\w.>-]*\b(?:opcode|opc)\b`, 'g'), cat: 'opcode' },
  { what: 'an opcode argument', re: new RegExp(String.raw`\b(?:setIo|writeIo|setRaw|opcodeName)\(\s*[^,()]+,\s*(?<v>${LIT})`, 'g'), cat: 'opcode' },
  { what: 'an opcode argument', re: new RegExp(String.raw`\b(?:adminSqe|sglRw)\(\s*(?<v>${LIT})`, 'g'), cat: 'opcode' },
  { what: 'a status code', re: new RegExp(String.raw`\bsc\s*(?::|=(?!=)|${CMP})\s*(?<v>${LIT})`, 'g'), cat: 'sc' },
  { what: 'a status code type', re: new RegExp(String.raw`\bsct\s*(?::|=(?!=)|${CMP})\s*(?<v>${LIT})`, 'g'), cat: 'sct' },
  { what: 'a generic status code', re: new RegExp(String.raw`\bgeneric\(\s*(?<v>${LIT})`, 'g'), cat: 'sc-generic' },
  { what: 'a command specific status code', re: new RegExp(String.raw`\bspecific\(\s*(?<v>${LIT})`, 'g'), cat: 'sc-specific' },
  { what: 'a media error status code', re: new RegExp(String.raw`\bmedia\(\s*(?<v>${LIT})`, 'g'), cat: 'sc-media' },
  { what: 'a status code type', re: new RegExp(String.raw`\bmakeStatus\(\s*(?<v>${LIT})`, 'g'), cat: 'sct' },
  { what: 'a status code', re: new RegExp(String.raw`\bmakeStatus\(\s*[^,()]+,\s*(?<v>${LIT})`, 'g'), cat: 'sc' },
  { what: 'a 15-bit status', re: new RegExp(String.raw`\bstatus\s*(?::|=(?!=)|${CMP})\s*(?<v>${LIT})`, 'g'), cat: 'status', zeroIsPlaceholder: true },
  { what: 'a register offset', re: new RegExp(String.raw`\b(?:read|write)(?:32|64)\(\s*[\w.]*bar\w*\s*,\s*(?<v>${LIT})`, 'gi'), cat: 'register' },
  { what: 'a register offset', re: new RegExp(String.raw`\b(?:reg32|reg64|writeReg32|writeReg64|readReg|writeReg|regRead|regWrite)\(\s*(?<v>${LIT})`, 'g'), cat: 'register' },
  { what: 'a BAR offset', re: new RegExp(String.raw`\b\w*bar\w*(?:(?:\.|->)\w+\(\))*\)*\s*\+\s*(?<v>${LIT})(?!\s*[*])`, 'gi'), cat: 'register' },
  { what: 'a config-space offset', re: new RegExp(String.raw`\bconfig(?:Read|Write)\w*\(\s*(?<v>${LIT})`, 'g'), cat: 'config' },
  { what: 'a config-space offset', re: new RegExp(String.raw`\b(?:configSpace_?|cs)\s*(?:\[|\+)\s*(?<v>${LIT})`, 'g'), cat: 'config' },
  { what: 'a config-space offset', re: new RegExp(String.raw`\bput(?:8|16|32)\(\s*(?<v>${LIT})`, 'g'), cat: 'config' },
  { what: 'command register bits', re: new RegExp(String.raw`\b(?:cmd|command)\s*(?:\||&|\|=|&=)\s*~?\s*(?<v>${LIT})`, 'gi'), cat: 'command-bits' },
  { what: 'command register bits', re: new RegExp(String.raw`\bconfigWrite\w*\(\s*[\w.:]*(?:COMMAND|0x0*4\b)[\w.]*\s*,\s*\w+\s*,\s*(?<v>${LIT})`, 'g'), cat: 'command-bits' },
  { what: 'a capability ID', re: new RegExp(String.raw`\bconfigRead\w*\([^()]*\)\s*${CMP}\s*(?<v>${LIT})`, 'g'), cat: 'cap-id' },
];

// The spec names a value should be written as, or null when the tables do not hold it.
function namesFor(tables, rule, value, cpp) {
  const pick = (list) => list.map((x) => (cpp ? x.cpp : x.ts));
  if (rule.cat === 'command-bits') {
    const bits = tables['command-bit'] ?? new Map();
    if (value === 0) return null;
    const parts = [];
    let left = value;
    for (const [bit, names] of bits) {
      if ((left & bit) === bit) {
        parts.push(pick(names)[0]);
        left &= ~bit;
      }
    }
    return left === 0 ? [parts.join(' | ')] : null;
  }
  if (rule.cat === 'status') {
    // SC 7:0, SCT 10:8, DNR 14 (NVMe 1.4 §4.6.1.2).
    const sc = value & 0xff;
    const sct = (value >> 8) & 7;
    if (value & ~0x47ff) return null;
    const sctNames = tables.sct?.get(sct);
    const group = { 0: 'sc-generic', 1: 'sc-specific', 2: 'sc-media' }[sct];
    const scNames = group ? tables[group]?.get(sc) : undefined;
    if (!sctNames || !scNames) return null;
    const dnr = (value & 0x4000) !== 0;
    if (cpp) return [`makeStatus(${sctNames[0].cpp}, ${scNames[0].cpp}, ${dnr})`];
    return [`(${sctNames[0].ts} << 8) | ${scNames[0].ts}${dnr ? ' | 0x4000 (DNR)' : ''}`];
  }
  const found = tables[rule.cat]?.get(value);
  return found ? pick(found) : null;
}

// A constant declared again under its spec name (ONCS_DSM, PCI_COMMAND, kPciCommandMemory):
// the name, upper-cased and without a k / PCI_ / NVME_ prefix, is a spec name (or CFG_ + it
// for config-space offsets) with the same value.
function redefinitions(code, tables, cpp, report) {
  const decl = new RegExp(String.raw`\b(?:const|constexpr|#define)\s+(?:[\w:<>]+\s+)*?(?<name>[A-Za-z_]\w*)\s*(?:=|\s)\s*\(?(?:(?<shift>1[uU]?\s*<<\s*))?(?<v>${LIT})\)?\s*[;,\n]`, 'g');
  let m;
  while ((m = decl.exec(code))) {
    let name = m.groups.name;
    if (/^k[A-Z]/.test(name)) name = name.slice(1);
    if (/[a-z]/.test(name)) name = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2');
    name = name.toUpperCase().replace(/^(?:PCI|NVME)_/, '');
    const value = m.groups.shift ? 2 ** num(m.groups.v) : num(m.groups.v);
    for (const candidate of [name, `CFG_${name}`, `REG_${name}`]) {
      const spec = tables.byName?.get(candidate);
      if (spec && spec.value === value) {
        report(m.index + m[0].lastIndexOf(m.groups.v), `${m.groups.shift ?? ''}${m.groups.v}`, `a redefinition of ${candidate}`, [cpp ? spec.cpp : spec.ts]);
        break;
      }
    }
  }
}

// Case labels of a switch whose head names an opcode.
function opcodeCases(code, tables, cpp, report) {
  const sw = /\bswitch\s*\(([^)]*)\)\s*\{/g;
  let m;
  while ((m = sw.exec(code))) {
    if (!/\b(?:opcode|opc)\b/i.test(m[1])) continue;
    let depth = 1;
    let j = sw.lastIndex;
    const start = j;
    while (j < code.length && depth > 0) {
      if (code[j] === '{') depth++;
      else if (code[j] === '}') depth--;
      j++;
    }
    const body = code.slice(start, j);
    const cs = new RegExp(String.raw`\bcase\s+(?<v>${LIT})\s*:`, 'g');
    let c;
    while ((c = cs.exec(body))) {
      const value = num(c.groups.v);
      const names = tables.opcode?.get(value);
      if (names) report(start + c.index + c[0].indexOf(c.groups.v), c.groups.v, 'a case of an opcode switch', names.map((x) => (cpp ? x.cpp : x.ts)));
    }
  }
}

function scanFile(file, rel, tables) {
  const cpp = /\.(cc|h|cpp)$/.test(file);
  const text = fs.readFileSync(file, 'utf8');
  const code = codeOnly(text, cpp);
  const lineStarts = [0];
  for (let k = 0; k < code.length; k++) if (code[k] === '\n') lineStarts.push(k + 1);
  const lineOf = (pos) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  const srcLines = text.split('\n');
  const found = [];
  const seen = new Set();
  const report = (pos, literal, what, names) => {
    const line = lineOf(pos);
    const key = `${line}:${pos}`;
    if (seen.has(key)) return;
    seen.add(key);
    found.push({ file: rel, line: line + 1, literal, what, names, source: srcLines[line].trim() });
  };
  for (const rule of RULES) {
    rule.re.lastIndex = 0;
    let m;
    while ((m = rule.re.exec(code))) {
      const value = num(m.groups.v);
      if (value === 0 && rule.zeroIsPlaceholder) continue;
      const names = namesFor(tables, rule, value, cpp);
      if (names) report(m.index + m[0].lastIndexOf(m.groups.v), m.groups.v, rule.what, names);
    }
  }
  opcodeCases(code, tables, cpp, report);
  redefinitions(code, tables, cpp, report);
  return found;
}

function walk(root, dir, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (dir === root && SKIP_TOP.has(entry.name)) continue;
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      walk(root, full, out);
    } else if (EXTENSIONS.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      out.push(full);
    }
  }
  return out;
}

/** Findings under root, with the spec tables read from specDir. */
function check(root, specDir = path.join(REPO, 'spec')) {
  const tables = buildTables(specDir);
  return walk(root, root, [])
    .flatMap((f) => scanFile(f, path.relative(root, f), tables))
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
}

function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf('--root');
  const root = at >= 0 ? path.resolve(args[at + 1] ?? '.') : REPO;
  // No allow-list: every finding fails.
  let failed = 0;
  for (const f of check(root)) {
    failed++;
    console.log(`${f.file}:${f.line}: ${f.literal} is ${f.what}: write ${f.names.join(' or ')}`);
  }
  console.log(failed ? `spec-literals: ${failed} finding(s)` : 'spec-literals: clean');
  process.exit(failed ? 1 : 0);
}

module.exports = { check, codeOnly };

if (require.main === module) main();
