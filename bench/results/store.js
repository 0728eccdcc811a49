'use strict';
// The run files on disk: bench/results/DATE-SEQ-SCRIPT.json, one per run, ordered by date
// and then by SEQ (the order the runs of one day were recorded).
const fs = require('fs');
const path = require('path');
const { RunFileError, validateRun } = require('./validate');

const RESULTS_DIR = __dirname;
const ROOT = path.resolve(__dirname, '..', '..');

/** The file name a run must have: `2026-12-01-01-matrix.json`. */
function runFileName(run) {
  return `${run.date}-${String(run.seq).padStart(2, '0')}-${path.basename(run.script, '.js')}.json`;
}

/** `2026-12-01-01`: how RESULTS.md names a run (its file name without the script). */
const runId = (run) => `${run.date}-${String(run.seq).padStart(2, '0')}`;

const byOrder = (a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.seq - b.seq);

/**
 * Reads, validates and orders every run file in `dir`. Throws a RunFileError naming the
 * file and field of the first problem, including problems between files (two runs with
 * one date and seq; one column with two units in runs of the same script).
 */
function loadRuns(dir = RESULTS_DIR) {
  const names = fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
  const runs = names.map((name) => {
    const file = path.relative(ROOT, path.join(dir, name)) || name;
    let doc;
    try {
      doc = JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8'));
    } catch (e) {
      throw new RunFileError(file, '(json)', e.message);
    }
    validateRun(doc, file);
    // A row's plot page must be there: RESULTS.md links it.
    doc.rows.forEach((row, i) => {
      if (row.plot !== undefined && !fs.existsSync(path.join(dir, row.plot))) throw new RunFileError(file, `rows[${i}].plot`, `${row.plot} is missing next to the run file`);
    });
    const expected = runFileName(doc);
    if (name !== expected) throw new RunFileError(file, 'date/seq/script', `the file must be named ${expected}`);
    return { run: doc, file };
  });
  const units = new Map();
  for (const { run, file } of runs) {
    run.columns.forEach((col, i) => {
      const key = `${run.script}\0${col.key}`;
      const seen = units.get(key);
      if (seen && seen.unit !== col.unit) throw new RunFileError(file, `columns[${i}].unit`, `${describe(col.unit)} where ${seen.file} has ${describe(seen.unit)} for column '${col.key}' of ${run.script}`);
      if (!seen) units.set(key, { unit: col.unit, file });
    });
  }
  return runs.map((r) => r.run).sort(byOrder);
}

const describe = (v) => JSON.stringify(v);

/** The next free seq for `date` in `dir` (1 for a day's first run). */
function nextSeq(dir, date) {
  const seqs = fs
    .readdirSync(dir)
    .map((n) => new RegExp(`^${date}-(\\d+)-`).exec(n))
    .filter(Boolean)
    .map((m) => Number(m[1]));
  return seqs.length ? Math.max(...seqs) + 1 : 1;
}

/** Validates `run` and writes it as its own file in `dir`; returns the path. */
function writeRun(run, dir = RESULTS_DIR) {
  const file = path.join(dir, runFileName(run));
  validateRun(run, path.relative(ROOT, file));
  if (fs.existsSync(file)) throw new Error(`bench/results: ${path.relative(ROOT, file)} exists already`);
  fs.writeFileSync(file, JSON.stringify(run, null, 2) + '\n');
  return file;
}

module.exports = { RESULTS_DIR, ROOT, byOrder, loadRuns, nextSeq, runFileName, runId, writeRun };
