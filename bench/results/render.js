#!/usr/bin/env node
// Writes bench/RESULTS.md from the run files in bench/results/ (every file validated
// first; a malformed one stops it with the file and field named).
//   node bench/results/render.js           write bench/RESULTS.md
//   node bench/results/render.js --check   exit 1 if bench/RESULTS.md differs from the files
'use strict';
const fs = require('fs');
const path = require('path');
const { loadRuns, RESULTS_DIR } = require('./store');
const { renderResults } = require('./markdown');

const RESULTS_MD = path.join(RESULTS_DIR, '..', 'RESULTS.md');

/** Renders the run files of `dir` and writes `out`; returns the text. */
function regenerate(dir = RESULTS_DIR, out = RESULTS_MD) {
  const text = renderResults(loadRuns(dir));
  fs.writeFileSync(out, text);
  return text;
}

if (require.main === module) {
  try {
    if (process.argv.includes('--check')) {
      const want = renderResults(loadRuns());
      const have = fs.existsSync(RESULTS_MD) ? fs.readFileSync(RESULTS_MD, 'utf8') : '';
      if (have !== want) {
        console.error('bench/RESULTS.md is not the rendering of bench/results/*.json; run `node bench/results/render.js`');
        process.exit(1);
      }
    } else {
      regenerate();
      console.error('bench/results: wrote bench/RESULTS.md');
    }
  } catch (e) {
    console.error(e.name === 'RunFileError' ? `bench/results: ${e.message}` : e);
    process.exit(1);
  }
}

module.exports = { RESULTS_MD, regenerate };
