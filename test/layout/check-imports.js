#!/usr/bin/env node
// The one-way layer check: reads every TypeScript/JavaScript import and every C++
// `#include "..."` of the rooms below and fails when
//   - a room imports a room of higher rank, or a sibling (another room of the same rank);
//   - an import names a file that does not exist (a typo, or a file moved without its users);
//   - a C++ include reaches another room by a bare or flat name instead of its path from
//     the repository root (`#include "registry.h"` from drivers/ silently meaning addon/);
//   - files import each other in a circle (TypeScript graph and C++ graph, file level).
// Type-only imports count: they still couple the two rooms. test/ is exempt as importer.
//   node test/layout/check-imports.js [--root DIR] [--rooms] [--graph]
// Plain Node, no dependencies, so it runs before anything is built.
'use strict';
const fs = require('fs');
const path = require('path');
const { builtinModules } = require('module');

// The room map: a room may import only rooms of lower rank, and itself. Two rooms of the
// same rank are siblings and never import each other. `paths` are directories, or a file
// (the package entry). `only` limits a room to importing the named rooms (and itself).
// `entry`: other rooms' TypeScript reaches this room only through that file (its public API).
const ROOMS = [
  { name: 'spec', rank: 0, paths: ['spec'], what: 'NVMe, PCI and phyr layouts; shared record layouts' },
  { name: 'lib+addon', rank: 1, paths: ['lib', 'addon'], what: 'syscall-level TypeScript and its C++ half' },
  { name: 'emu', rank: 2, paths: ['emu'], what: 'the embedded controller (TypeScript + emu/native)' },
  { name: 'drivers/nvme', rank: 2, paths: ['drivers/nvme'], entry: 'drivers/nvme/index.ts', what: 'the driver (TypeScript + drivers/nvme/native)' },
  { name: 'targets', rank: 3, paths: ['targets'], what: 'a target string -> a PciFunction (emu or VFIO)' },
  { name: 'fabrics', rank: 3, paths: ['fabrics'], what: 'NVMe over Fabrics: the NVMe/TCP target protocol (PDUs, digests, connections)' },
  { name: 'conformance', rank: 3, paths: ['conformance'], what: 'raw-command NVMe rule checks over a PciFunction' },
  { name: 'serve', rank: 4, paths: ['serve'], what: 'phyr serve: the daemon, its clients (connect) and the socket protocol' },
  { name: 'bench', rank: 5, paths: ['bench'], what: 'the bench: native engine, CLI, scripts, results' },
  { name: 'entry', rank: 5, paths: ['index.ts'], what: 'the package entry' },
  { name: 'tools', rank: 6, paths: ['tools'], what: 'the phyr CLI' },
  { name: 'examples', rank: 7, paths: ['examples'], only: ['entry'], what: 'use the package entry only' },
];
// Importers exempt from the check (their imports are not read).
const EXEMPT = ['test'];
// Quoted includes that come from outside the repository (node-addon-api, Node's headers).
const EXTERNAL_INCLUDES = ['napi.h', 'napi-inl.h', 'node_api.h', 'js_native_api.h', 'node.h', 'uv.h'];
// Build output that stands for a source file: dist/X.js is X.ts.
const BUILD_DIRS = ['dist'];

const SCRIPT = /\.(ts|tsx|js|mjs|cjs)$/;
const NATIVE = /\.(cc|cpp|c|h|hh|hpp)$/;
// Not read: installed packages anywhere; build output at the repository root.
const SKIP_DIRS = new Set(['node_modules']);
const SKIP_TOP = new Set(['build', ...BUILD_DIRS]);

function parseArgs(argv) {
  const opts = { root: path.resolve(__dirname, '..', '..'), rooms: false, graph: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--root') opts.root = path.resolve(argv[++i] ?? '.');
    else if (a === '--rooms') opts.rooms = true;
    else if (a === '--graph') opts.graph = true;
    else {
      console.error(`check-imports: unknown argument ${a}; usage: check-imports.js [--root DIR] [--rooms] [--graph]`);
      process.exit(2);
    }
  }
  return opts;
}

// The room of a repository-relative path (forward slashes), or null outside every room.
function roomOf(rel) {
  let best = null;
  let bestLen = -1;
  for (const room of ROOMS) {
    for (const p of room.paths) {
      if ((rel === p || rel.startsWith(p + '/')) && p.length > bestLen) {
        best = room;
        bestLen = p.length;
      }
    }
  }
  return best;
}

function walk(root, dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(path.join(root, dir), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !(dir === '' && SKIP_TOP.has(e.name)) && !e.name.startsWith('.')) walk(root, rel, out);
    } else if (e.isFile()) out.push(rel);
  }
  return out;
}

// Blanks comments (keeping line breaks, so offsets and lines stay put) and marks which
// offsets are code, so a commented-out import, or one spelled inside a string, is not
// read, and a `//` inside a string is not a comment.
// JavaScript regex literals are skipped by the usual previous-token rule; in C++ a quote
// after a digit or letter is a digit separator (50'000), not a character literal.
function stripComments(src, lang) {
  const out = src.split('');
  const n = src.length;
  const isCode = new Uint8Array(n);
  const blank = (a, b) => {
    for (let k = a; k < b; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  const stack = [{ tpl: false, depth: 0 }];
  let prev = '';
  let i = 0;
  while (i < n) {
    const top = stack[stack.length - 1];
    const c = src[i];
    if (!top.tpl) isCode[i] = 1;
    if (top.tpl) {
      if (c === '\\') i += 2;
      else if (c === '`') {
        stack.pop();
        prev = '`';
        i++;
      } else if (c === '$' && src[i + 1] === '{') {
        stack.push({ tpl: false, depth: 0 });
        prev = '{';
        i += 2;
      } else i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      const e = src.indexOf('\n', i);
      const end = e < 0 ? n : e;
      blank(i, end);
      i = end;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const e = src.indexOf('*/', i + 2);
      const end = e < 0 ? n : e + 2;
      blank(i, end);
      i = end;
      continue;
    }
    if (c === '"' || (c === "'" && !(lang === 'cc' && /[\w]/.test(src[i - 1] ?? '')))) {
      isCode[i] = 0;
      i++;
      while (i < n && src[i] !== c && src[i] !== '\n') i += src[i] === '\\' ? 2 : 1;
      i++;
      prev = c;
      continue;
    }
    if (lang === 'js') {
      if (c === '`') {
        isCode[i] = 0;
        stack.push({ tpl: true });
        i++;
        continue;
      }
      if (c === '/' && (prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev))) {
        isCode[i] = 0;
        i++;
        let inClass = false;
        while (i < n && src[i] !== '\n') {
          if (src[i] === '\\') i++;
          else if (src[i] === '[') inClass = true;
          else if (src[i] === ']') inClass = false;
          else if (src[i] === '/' && !inClass) break;
          i++;
        }
        i++;
        prev = ')';
        continue;
      }
    }
    if (c === '{') top.depth++;
    else if (c === '}') {
      if (top.depth === 0 && stack.length > 1) {
        stack.pop();
        prev = '`';
        i++;
        continue;
      }
      top.depth--;
    }
    if (!/\s/.test(c)) prev = c;
    i++;
  }
  return { code: out.join(''), isCode };
}

function lineAt(starts, offset) {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

function lineStarts(src) {
  const starts = [0];
  for (let i = 0; i < src.length; i++) if (src[i] === '\n') starts.push(i + 1);
  return starts;
}

const CLAUSE = String.raw`(?:type\s+)?(?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+)`;
const SCRIPT_PATTERNS = [
  { kind: 'static', re: new RegExp(String.raw`(?<![\w$.])(?:import|export)\s+(${CLAUSE})\s*from\s*(['"])([^'"\n]+)\2`, 'g'), spec: 3 },
  { kind: 'side-effect', re: /(?<![\w$.])import\s*(['"])([^'"\n]+)\1/g, spec: 2 },
  { kind: 'require', re: /(?<![\w$.])require\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g, spec: 2 },
  { kind: 'dynamic', re: /(?<![\w$.])import\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g, spec: 2 },
];

// Every import specifier of a script file: { spec, line, typeOnly }.
function scriptImports(src) {
  const { code, isCode } = stripComments(src, 'js');
  const starts = lineStarts(code);
  const found = new Map();
  for (const p of SCRIPT_PATTERNS) {
    for (const m of code.matchAll(p.re)) {
      if (found.has(m.index) || !isCode[m.index]) continue;
      const typeOnly = p.kind === 'static' && /^type\s/.test(m[1]);
      found.set(m.index, { spec: m[p.spec], line: lineAt(starts, m.index), typeOnly });
    }
  }
  return [...found.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

function nativeIncludes(src) {
  const { code, isCode } = stripComments(src, 'cc');
  const starts = lineStarts(code);
  const out = [];
  for (const m of code.matchAll(/^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"/gm)) {
    const hash = m.index + m[0].indexOf('#');
    if (isCode[hash]) out.push({ spec: m[1], line: lineAt(starts, m.index) });
  }
  return out;
}

function isFile(root, rel) {
  try {
    return fs.statSync(path.join(root, rel)).isFile();
  } catch {
    return false;
  }
}

// Repository-relative path with forward slashes, or null when it leaves the repository.
function relTo(root, abs) {
  const rel = path.relative(root, abs).split(path.sep).join('/');
  return rel.startsWith('..') || path.isAbsolute(rel) ? null : rel;
}

// Where a relative script specifier lands, as Node and TypeScript resolve it; build
// output (dist/X.js) stands for its source (X.ts).
function resolveScript(root, fromRel, spec) {
  const base = relTo(root, path.resolve(root, path.dirname(fromRel), spec));
  if (base === null) return { target: null, guess: spec };
  const candidates = (b) => {
    const list = [];
    const js = b.match(/^(.*)\.(js|mjs|cjs)$/);
    if (js) list.push(`${js[1]}.ts`, `${js[1]}.tsx`, `${js[1]}.d.ts`);
    list.push(b);
    for (const ext of ['.ts', '.tsx', '.d.ts', '.js', '.mjs', '.cjs', '.json', '.node']) list.push(b + ext);
    for (const ext of ['.ts', '.tsx', '.d.ts', '.js']) list.push(`${b}/index${ext}`);
    return list;
  };
  let bases = [base];
  const build = BUILD_DIRS.find((d) => base.startsWith(d + '/'));
  if (build) bases = [base.slice(build.length + 1), base];
  for (const b of bases) for (const c of candidates(b)) if (isFile(root, c)) return { target: c, guess: b };
  return { target: null, guess: bases[0] };
}

// Where a quoted include lands: the including file's directory first (as the compiler
// looks), then the repository root; failing both, any file of the tree whose path ends
// in the spelled name (how a flat -I path finds it).
function resolveInclude(root, fromRel, spec, nativeFiles) {
  const local = relTo(root, path.resolve(root, path.dirname(fromRel), spec));
  if (local !== null && isFile(root, local)) return { target: local, how: 'local' };
  const fromRoot = relTo(root, path.resolve(root, spec));
  if (fromRoot !== null && isFile(root, fromRoot)) return { target: fromRoot, how: 'root' };
  const tail = '/' + path.posix.normalize(spec).replace(/^(\.\.\/)+/, '');
  const flat = nativeFiles.filter((f) => f.endsWith(tail));
  if (flat.length) return { target: flat[0], how: 'flat', also: flat.slice(1) };
  return { target: null, how: 'missing', guess: fromRoot ?? spec };
}

const roomLabel = (room) => (room ? `${room.name} (rank ${room.rank})` : 'outside every room');

// Why an import from one room into another breaks the layers, or null when it does not.
function layerBreak(from, to) {
  if (from === to) return null;
  if (!to) return 'imports a file outside every room';
  if (from.only) return from.only.includes(to.name) ? null : `${from.name} may import only ${from.only.join(', ')}`;
  if (to.rank > from.rank) return 'upward import';
  if (to.rank === from.rank) return 'sibling import';
  return null;
}

// Why an import reaches past a room's public entry, or null.
function entryBreak(from, to, target) {
  if (!to || from === to || !to.entry || target === to.entry) return null;
  return `import ${to.name} through its entry ${to.entry}, not a module inside it`;
}

const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function packageName(root) {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).name ?? null;
  } catch {
    return null;
  }
}

// Reads the tree; returns the files, the two graphs and the violations.
function analyse(root) {
  const all = walk(root, '', []);
  const inRoom = all.filter((f) => roomOf(f) && !EXEMPT.some((e) => f === e || f.startsWith(e + '/')));
  const scripts = inRoom.filter((f) => SCRIPT.test(f));
  const natives = inRoom.filter((f) => NATIVE.test(f));
  const nativeAll = all.filter((f) => NATIVE.test(f));
  const pkg = packageName(root);
  const violations = [];
  const graphs = { ts: new Map(), cc: new Map() };
  const roomEdges = new Map();
  const addEdge = (graph, from, to, line) => {
    if (!graph.has(from)) graph.set(from, new Map());
    const m = graph.get(from);
    if (!m.has(to)) m.set(to, line);
  };
  const countRoom = (fromRoom, toRoom) => {
    const key = `${fromRoom.name}\t${toRoom ? toRoom.name : '(outside)'}`;
    roomEdges.set(key, (roomEdges.get(key) ?? 0) + 1);
  };

  for (const file of scripts) {
    const room = roomOf(file);
    graphs.ts.set(file, graphs.ts.get(file) ?? new Map());
    for (const imp of scriptImports(fs.readFileSync(path.join(root, file), 'utf8'))) {
      const where = `${file}:${imp.line}`;
      const spelled = `'${imp.spec}'${imp.typeOnly ? ' (type only)' : ''}`;
      if (!imp.spec.startsWith('.')) {
        // A package: only the examples are held to the package entry and Node's built-ins.
        if (room.only && !BUILTINS.has(imp.spec) && imp.spec !== pkg) {
          violations.push(`${where}: imports ${spelled}: ${room.name} may import only ${room.only.join(', ')} and node built-ins`);
        }
        continue;
      }
      const r = resolveScript(root, file, imp.spec);
      if (!r.target) {
        // spec/X.ts is generated from spec/X.h: say how to make it rather than call it a typo.
        const twinOf = /^spec\/([a-z_]+)$/.exec(r.guess);
        const hint = twinOf && fs.existsSync(path.join(root, 'spec', `${twinOf[1]}.h`)) ? ' (a generated spec twin: run node spec/generate.js)' : '';
        violations.push(`${where}: imports ${spelled}, which does not exist (${r.guess})${hint}: ${roomLabel(room)} -> ${roomLabel(roomOf(r.guess))}`);
        continue;
      }
      const toRoom = roomOf(r.target);
      countRoom(room, toRoom);
      if (SCRIPT.test(r.target)) addEdge(graphs.ts, file, r.target, imp.line);
      const why = layerBreak(room, toRoom) ?? entryBreak(room, toRoom, r.target);
      if (why) violations.push(`${where}: imports ${spelled} (${r.target}): ${roomLabel(room)} -> ${roomLabel(toRoom)}: ${why}`);
    }
  }

  for (const file of natives) {
    const room = roomOf(file);
    graphs.cc.set(file, graphs.cc.get(file) ?? new Map());
    for (const inc of nativeIncludes(fs.readFileSync(path.join(root, file), 'utf8'))) {
      const where = `${file}:${inc.line}`;
      const spelled = `"${inc.spec}"`;
      const r = resolveInclude(root, file, inc.spec, nativeAll);
      if (!r.target) {
        if (EXTERNAL_INCLUDES.includes(inc.spec)) continue;
        violations.push(`${where}: includes ${spelled}, which does not exist (${r.guess}): ${roomLabel(room)} -> ${roomLabel(roomOf(r.guess))}`);
        continue;
      }
      const toRoom = roomOf(r.target);
      countRoom(room, toRoom);
      addEdge(graphs.cc, file, r.target, inc.line);
      const why = [layerBreak(room, toRoom)];
      if (toRoom !== room && inc.spec !== r.target) why.push(`include by room: write "${r.target}"`);
      if (r.how === 'flat' && r.also.length) why.push(`the bare name also matches ${r.also.join(', ')}`);
      const reasons = why.filter(Boolean);
      if (reasons.length) violations.push(`${where}: includes ${spelled} (${r.target}): ${roomLabel(room)} -> ${roomLabel(toRoom)}: ${reasons.join('; ')}`);
    }
  }

  for (const [lang, graph] of Object.entries(graphs)) {
    for (const scc of stronglyConnected(graph)) violations.push(describeCycle(lang, graph, scc));
  }
  const edges = [...graphs.ts.values(), ...graphs.cc.values()].reduce((s, m) => s + m.size, 0);
  return { files: scripts.length + natives.length, edges, violations, roomEdges };
}

// Tarjan's strongly connected components; returns those of more than one file.
function stronglyConnected(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const out = [];
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of (graph.get(v) ?? new Map()).keys()) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

// One line for a circle: the shortest cycle through the component's first file, each hop
// with the line of its import, and the rest of the component when it is larger.
function describeCycle(lang, graph, scc) {
  const members = new Set(scc);
  const start = scc[0];
  const prev = new Map();
  const queue = [start];
  let found = null;
  while (queue.length && !found) {
    const v = queue.shift();
    for (const w of (graph.get(v) ?? new Map()).keys()) {
      if (!members.has(w)) continue;
      if (w === start) {
        found = v;
        break;
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  const pathBack = [found];
  while (pathBack[0] !== start) pathBack.unshift(prev.get(pathBack[0]));
  const hops = pathBack.map((f, k) => `${f}:${graph.get(f).get(pathBack[k + 1] ?? start)}`);
  const rest = scc.filter((f) => !pathBack.includes(f));
  const label = lang === 'ts' ? 'import circle' : 'include circle';
  const rooms = [...new Set(scc.map((f) => roomLabel(roomOf(f))))].join(', ');
  return `${hops[0]}: ${label} of ${scc.length} files in ${rooms}: ${hops.join(' -> ')} -> ${start}${rest.length ? ` (with ${rest.join(', ')})` : ''}`;
}

function printRooms() {
  for (const room of ROOMS) {
    const rule = room.only ? `imports only ${room.only.join(', ')}` : 'imports lower ranks';
    console.log(`${String(room.rank).padStart(2)}  ${room.name.padEnd(13)} ${room.paths.join(', ').padEnd(18)} ${rule}; ${room.what}`);
  }
  console.log(`exempt as importers: ${EXEMPT.join(', ')}`);
}

function printGraph(roomEdges) {
  const rank = (name) => ROOMS.find((r) => r.name === name)?.rank ?? 99;
  const rows = [...roomEdges.entries()]
    .map(([key, n]) => [...key.split('\t'), n])
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]) || rank(a[1]) - rank(b[1]) || a[1].localeCompare(b[1]));
  for (const [from, to, n] of rows) {
    const fromRoom = ROOMS.find((r) => r.name === from);
    const toRoom = ROOMS.find((r) => r.name === to) ?? null;
    const mark = layerBreak(fromRoom, toRoom) ? '  !' : '';
    console.log(`${from.padEnd(13)} -> ${to.padEnd(13)} ${String(n).padStart(4)}${mark}`);
  }
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.rooms) printRooms();
  const result = analyse(opts.root);
  if (opts.graph) printGraph(result.roomEdges);
  if (opts.rooms || opts.graph) return;
  for (const v of result.violations) console.log(v);
  const summary = `${result.files} files, ${result.edges} file edges, ${ROOMS.length} rooms`;
  if (result.violations.length) {
    console.log(`layout: ${result.violations.length} violation(s) (${summary})`);
    process.exit(1);
  }
  console.log(`layout: clean: ${summary}`);
}

if (require.main === module) main();
module.exports = { ROOMS, analyse, scriptImports, nativeIncludes };
