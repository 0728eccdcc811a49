'use strict';
// The shape of one run file (bench/results/*.json). Everything is checked, unknown fields
// included, so a typo is refused with the file and the field named rather than silently
// dropped from bench/RESULTS.md.
const { FORMATS } = require('./format');

const SCHEMA = 'phyr-bench-run/1';

/** A malformed run file: `file` and `field` say where, the message says what. */
class RunFileError extends Error {
  constructor(file, field, problem) {
    super(`${file}: ${field}: ${problem}`);
    this.name = 'RunFileError';
    this.file = file;
    this.field = field;
  }
}

const describe = (v) => (v === undefined ? 'nothing' : JSON.stringify(v));
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);

// A small checker bound to one file, so every message names it.
function checker(file) {
  const fail = (field, problem) => {
    throw new RunFileError(file, field, problem);
  };
  const object = (v, field, required, optional = []) => {
    if (!isObject(v)) fail(field || '(top level)', `expected an object, got ${describe(v)}`);
    for (const k of required) if (!(k in v)) fail(field ? `${field}.${k}` : k, 'missing');
    for (const k of Object.keys(v)) if (!required.includes(k) && !optional.includes(k)) fail(field ? `${field}.${k}` : k, 'unknown field');
    return v;
  };
  const string = (v, field, { nullable = false, pattern } = {}) => {
    if (nullable && v === null) return v;
    if (typeof v !== 'string' || v === '') fail(field, `expected ${nullable ? 'a string or null' : 'a string'}, got ${describe(v)}`);
    if (pattern && !pattern.re.test(v)) fail(field, `expected ${pattern.what}, got ${describe(v)}`);
    return v;
  };
  const number = (v, field, { nullable = false, integer = false, min } = {}) => {
    if (nullable && v === null) return v;
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || (min !== undefined && v < min))
      fail(field, `expected ${integer ? 'an integer' : 'a finite number'}${min !== undefined ? ` >= ${min}` : ''}${nullable ? ' or null' : ''}, got ${describe(v)}`);
    return v;
  };
  const array = (v, field, { nonEmpty = false } = {}) => {
    if (!Array.isArray(v)) fail(field, `expected an array, got ${describe(v)}`);
    if (nonEmpty && v.length === 0) fail(field, 'expected at least one entry');
    return v;
  };
  return { fail, object, string, number, array };
}

const DATE = { re: /^\d{4}-\d{2}-\d{2}$/, what: 'a date YYYY-MM-DD' };
const TIME = { re: /^\d{2}:\d{2}(:\d{2})?Z$/, what: 'a UTC time HH:MM[:SS]Z' };
const COMMIT = { re: /^[0-9a-f]{40}$/, what: 'a 40-digit commit id' };
const COLUMN_KEY = { re: /^[a-z][A-Za-z0-9]*$/, what: 'a camelCase key' };
const ROW_KEY = { re: /^[a-z0-9][a-z0-9.:-]*$/, what: 'a lowercase key (a-z, 0-9, . : -)' };
const SCRIPT = { re: /^bench\/[\w./-]+\.js$/, what: 'a script path under bench/' };
const PLOT = { re: /^plots\/[\w.-]+\/[\w.:-]+\.html$/, what: 'a plot page under bench/results/plots/ (plots/RUN/KEY.html)' };

function validDate(s) {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

function checkColumns(c, columns, field) {
  c.array(columns, field, { nonEmpty: true });
  const keys = new Set();
  columns.forEach((col, i) => {
    const f = `${field}[${i}]`;
    c.object(col, f, ['key', 'label', 'unit', 'format'], ['better']);
    c.string(col.key, `${f}.key`, { pattern: COLUMN_KEY });
    if (keys.has(col.key)) c.fail(`${f}.key`, `duplicate column '${col.key}'`);
    keys.add(col.key);
    c.string(col.label, `${f}.label`);
    c.string(col.unit, `${f}.unit`, { nullable: true });
    if (!FORMATS.includes(col.format)) c.fail(`${f}.format`, `expected one of ${FORMATS.join(', ')}, got ${describe(col.format)}`);
    if ('better' in col) {
      if (col.better !== 'higher' && col.better !== 'lower') c.fail(`${f}.better`, `expected "higher" or "lower", got ${describe(col.better)}`);
      if (col.format === 'text') c.fail(`${f}.better`, 'a text column has no better figure');
    }
  });
  return new Map(columns.map((col) => [col.key, col]));
}

function checkRows(c, rows, byKey, field) {
  c.array(rows, field, { nonEmpty: true });
  const keys = new Set();
  rows.forEach((row, i) => {
    const f = `${field}[${i}]`;
    c.object(row, f, ['key', 'label', 'params', 'figures'], ['plot']);
    if ('plot' in row) c.string(row.plot, `${f}.plot`, { pattern: PLOT });
    c.string(row.key, `${f}.key`, { pattern: ROW_KEY });
    if (keys.has(row.key)) c.fail(`${f}.key`, `duplicate row '${row.key}'`);
    keys.add(row.key);
    c.string(row.label, `${f}.label`);
    c.object(row.params, `${f}.params`, [], Object.keys(isObject(row.params) ? row.params : {}));
    for (const [k, v] of Object.entries(row.params)) if (typeof v !== 'string' && typeof v !== 'number') c.fail(`${f}.params.${k}`, `expected a string or number, got ${describe(v)}`);
    c.object(row.figures, `${f}.figures`, [], [...byKey.keys()]);
    if (Object.keys(row.figures).length === 0) c.fail(`${f}.figures`, 'expected at least one figure');
    for (const [k, v] of Object.entries(row.figures)) {
      const ff = `${f}.figures.${k}`;
      if (byKey.get(k).format === 'text') c.string(v, ff);
      else if (Array.isArray(v)) {
        // A list is the runs of one row; a compared figure is one number (its best is defined).
        if (byKey.get(k).better) c.fail(ff, `column '${k}' has a better figure, so it takes one number, not a list`);
        c.array(v, ff, { nonEmpty: true }).forEach((x, j) => c.number(x, `${ff}[${j}]`));
      }
      else c.number(v, ff);
    }
  });
}

function checkTable(c, table, field, extra = []) {
  c.object(table, field, ['title', 'columns', 'rows'], extra);
  c.string(table.title, `${field}.title`);
  checkRows(c, table.rows, checkColumns(c, table.columns, `${field}.columns`), `${field}.rows`);
}

/**
 * Checks one parsed run file; throws a RunFileError naming `file` and the first bad field.
 * @param {unknown} run the parsed JSON
 * @param {string} file the name used in messages (e.g. bench/results/2026-12-01-01-matrix.json)
 */
function validateRun(run, file) {
  const c = checker(file);
  c.object(run, '', ['schema', 'date', 'seq', 'time', 'script', 'title', 'command', 'commit', 'machine', 'load', 'method', 'columns', 'rows', 'references', 'tables', 'notes']);
  if (run.schema !== SCHEMA) c.fail('schema', `expected ${describe(SCHEMA)}, got ${describe(run.schema)}`);
  c.string(run.date, 'date', { pattern: DATE });
  if (!validDate(run.date)) c.fail('date', `not a calendar date: ${describe(run.date)}`);
  c.number(run.seq, 'seq', { integer: true, min: 1 });
  c.string(run.time, 'time', { nullable: true, pattern: TIME });
  c.string(run.script, 'script', { pattern: SCRIPT });
  c.string(run.title, 'title');
  c.string(run.command, 'command', { nullable: true });
  c.string(run.commit, 'commit', { nullable: true, pattern: COMMIT });
  c.object(run.machine, 'machine', ['cores', 'cpu', 'node', 'hugepages', 'notes']);
  c.number(run.machine.cores, 'machine.cores', { nullable: true, integer: true, min: 1 });
  for (const k of ['cpu', 'node', 'hugepages', 'notes']) c.string(run.machine[k], `machine.${k}`, { nullable: true });
  c.object(run.load, 'load', ['low', 'high', 'when', 'notes']);
  c.number(run.load.low, 'load.low', { nullable: true, min: 0 });
  c.number(run.load.high, 'load.high', { nullable: true, min: 0 });
  if ((run.load.low === null) !== (run.load.high === null)) c.fail('load', 'low and high are both numbers or both null');
  if (run.load.low !== null && run.load.high < run.load.low) c.fail('load.high', `below load.low (${run.load.low})`);
  c.string(run.load.when, 'load.when', { nullable: true });
  c.string(run.load.notes, 'load.notes', { nullable: true });
  c.string(run.method, 'method', { nullable: true });
  checkRows(c, run.rows, checkColumns(c, run.columns, 'columns'), 'rows');
  c.array(run.references, 'references').forEach((ref, i) => {
    const f = `references[${i}]`;
    c.object(ref, f, ['key', 'label', 'value', 'unit', 'notes']);
    c.string(ref.key, `${f}.key`, { pattern: COLUMN_KEY });
    c.string(ref.label, `${f}.label`);
    c.number(ref.value, `${f}.value`);
    c.string(ref.unit, `${f}.unit`);
    c.string(ref.notes, `${f}.notes`, { nullable: true });
  });
  c.array(run.tables, 'tables').forEach((table, i) => checkTable(c, table, `tables[${i}]`));
  c.array(run.notes, 'notes').forEach((n, i) => c.string(n, `notes[${i}]`));
  return run;
}

module.exports = { SCHEMA, RunFileError, validateRun };
