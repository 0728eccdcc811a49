'use strict';
// How a run file's figures are written in bench/RESULTS.md. The formats are the ones the
// ledger used, so a figure reads the same in the generated file as when it was measured.
const FORMATS = ['integer', 'fixed1', 'fixed2', 'latency-us', 'number', 'text'];

const grouped = (n, decimals) => n.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });

// One number in a column's format. `latency-us` is bench/matrix.js's rule for microseconds:
// two decimals under 10 µs, one above, no thousands separator.
function formatNumber(format, n) {
  switch (format) {
    case 'integer':
      return grouped(n, 0);
    case 'fixed1':
      return grouped(n, 1);
    case 'fixed2':
      return grouped(n, 2);
    case 'latency-us':
      return n.toFixed(n < 10 ? 2 : 1);
    case 'number':
      return grouped(n, decimalsOf(n));
    default:
      throw new Error(`bench/results: no number format '${format}'`);
  }
}

// Decimals of a number as JSON holds it (so `number` shows 0.5 as 0.5 and 12 as 12).
function decimalsOf(n) {
  const s = String(n);
  const dot = s.indexOf('.');
  return dot < 0 || /e/i.test(s) ? 0 : s.length - dot - 1;
}

/**
 * A figure as text: numbers in the column's format, a list of numbers joined by commas
 * (the runs of one row), text as it is, and an en dash for a figure the run did not record.
 */
function formatFigure(column, value) {
  if (value === undefined || value === null) return column.format === 'text' ? '' : '–';
  if (column.format === 'text') return String(value);
  if (Array.isArray(value)) return value.map((v) => formatNumber(column.format, v)).join(', ');
  return formatNumber(column.format, value);
}

// Decimals a format shows for `n` (null: as many as the number has).
function shownDecimals(format, n) {
  return { integer: 0, fixed1: 1, fixed2: 2, 'latency-us': n < 10 ? 2 : 1 }[format] ?? null;
}

/** `n` rounded to what its column shows, so a run file holds the figures RESULTS.md prints. */
function roundFor(format, n) {
  const d = shownDecimals(format, n);
  return d === null ? n : Number(n.toFixed(d));
}

module.exports = { FORMATS, formatFigure, formatNumber, roundFor };
