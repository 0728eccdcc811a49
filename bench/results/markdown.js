'use strict';
// bench/RESULTS.md from the run files: an index of the runs, the latest run in full, and
// per row the best figure with its run and a one-line history. Pure: the same runs give
// the same text (no clock, no locale beyond the fixed en-US grouping, fixed orders).
const { formatFigure } = require('./format');
const { byOrder, runFileName, runId } = require('./store');

const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const tableLines = (header, align, rows) => [`| ${header.map(cell).join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)];
const link = (run) => `[${runId(run)}](results/${runFileName(run)})`;
// A column's name with its unit when the label does not already say it.
const titleOf = (col) => (col.unit === null || col.label.includes(col.unit) ? col.label : `${col.label} (${col.unit})`);

function machineText(m) {
  const parts = [m.cores === null ? null : `${m.cores} cores`, m.cpu, m.node === null ? null : `Node ${m.node}`, m.hugepages].filter((x) => x !== null);
  return parts.length ? parts.join(', ') : 'not recorded';
}

function loadText(l) {
  const figure = l.low === null ? 'not recorded' : l.low === l.high ? String(l.low) : `${l.low}–${l.high}`;
  return [figure, l.when].filter((x) => x !== null).join(' ') + (l.notes === null ? '' : ` (${l.notes})`);
}

// A run's table (its main rows or one of its extra tables): every column, in its format.
function runTable(columns, rows) {
  const header = ['row', 'label', ...columns.map((c) => c.label)];
  const align = ['---', '---', ...columns.map((c) => (c.format === 'text' ? '---' : '---:'))];
  // A row with a plot page links its label to it (bench/RESULTS.md sits beside results/).
  const label = (r) => (r.plot === undefined ? r.label : `[${r.label}](results/${r.plot})`);
  return tableLines(header, align, rows.map((r) => [`\`${r.key}\``, label(r), ...columns.map((c) => formatFigure(c, r.figures[c.key]))]));
}

function runIndex(runs) {
  return [
    '## Runs',
    '',
    ...tableLines(
      ['run', 'script', 'what', 'machine', 'load average', 'commit', 'rows'],
      ['---', '---', '---', '---', '---', '---', '---:'],
      runs.map((r) => [link(r), r.script, r.title, machineText(r.machine), loadText(r.load), r.commit === null ? '–' : r.commit.slice(0, 12), String(r.rows.length)]),
    ),
  ];
}

function latestRun(run) {
  const lines = [
    `## Latest run: ${runId(run)} — ${run.title} (${run.script})`,
    '',
    `- File: ${link(run)}${run.time === null ? '' : `, started ${run.time}`}`,
    `- Machine: ${machineText(run.machine)}${run.machine.notes === null ? '' : `; ${run.machine.notes}`}`,
    `- Load average: ${loadText(run.load)}`,
    `- Commit: ${run.commit === null ? 'not recorded' : `\`${run.commit}\``}`,
    `- Command: ${run.command === null ? 'not recorded' : `\`${run.command}\``}`,
  ];
  if (run.method !== null) lines.push('', run.method);
  lines.push('', ...runTable(run.columns, run.rows));
  for (const ref of run.references) lines.push('', `${ref.label}: ${ref.value.toLocaleString('en-US')} ${ref.unit}${ref.notes === null ? '' : ` (${ref.notes})`}.`);
  for (const t of run.tables) lines.push('', `**${t.title}**`, '', ...runTable(t.columns, t.rows));
  if (run.notes.length) lines.push('', 'Notes:', '', ...run.notes.map((n) => `- ${n}`));
  return lines;
}

// Per script: each row key's occurrences over the runs, oldest first; the keys in the
// order of the script's latest run, then keys that run lacks in the order first seen.
function rowsOf(scriptRuns) {
  const byKey = new Map();
  for (const row of scriptRuns[scriptRuns.length - 1].rows) byKey.set(row.key, []);
  for (const run of scriptRuns) {
    for (const row of run.rows) {
      if (!byKey.has(row.key)) byKey.set(row.key, []);
      byKey.get(row.key).push({ run, row });
    }
  }
  return byKey;
}

// The compared columns of a script (those with a better direction), in first-seen order.
function comparedColumns(scriptRuns) {
  const seen = new Map();
  for (const run of scriptRuns) for (const c of run.columns) if (c.better && !seen.has(c.key)) seen.set(c.key, c);
  return [...seen.values()];
}

// The best figure of one column over a row's occurrences; the earliest run wins a tie.
function best(occurrences, col) {
  let top = null;
  for (const o of occurrences) {
    const v = o.row.figures[col.key];
    if (typeof v !== 'number') continue;
    if (top === null || (col.better === 'higher' ? v > top.value : v < top.value)) top = { value: v, run: o.run };
  }
  return top;
}

// The method and notes of a script's latest run, so that a later run of another script
// (which becomes the "Latest run" above) does not take them out of the file. The latest run
// overall is shown in full above and only pointed at.
function methodAndNotes(run, latest) {
  if (run === latest) return [`Method and notes: those of ${link(run)}, the latest run above.`, ''];
  const lines = [`Method and notes of this script's latest run, ${link(run)}${run.command === null ? '' : ` (\`${run.command}\`)`}:`, ''];
  if (run.method !== null) lines.push(run.method, '');
  if (run.notes.length) lines.push(...run.notes.map((n) => `- ${n}`), '');
  return lines;
}

function perScript(script, scriptRuns, latest) {
  const cols = comparedColumns(scriptRuns);
  const n = scriptRuns.length;
  const lines = [`### ${script} (${n} run${n === 1 ? '' : 's'})`, '', ...methodAndNotes(scriptRuns[n - 1], latest)];
  if (cols.length === 0) return [...lines, 'No column of this script has a better direction, so nothing is compared.'];
  // Rows with none of the compared figures (e.g. a part measured only before a change) are left out.
  const rows = [...rowsOf(scriptRuns)].filter(([, occ]) => occ.some((o) => cols.some((c) => typeof o.row.figures[c.key] === 'number')));
  const label = (occ) => occ[occ.length - 1].row.label;
  lines.push(
    ...tableLines(
      ['row', 'label', ...cols.flatMap((c) => [titleOf(c), 'run'])],
      ['---', '---', ...cols.flatMap(() => ['---:', '---'])],
      rows.map(([key, occ]) => [`\`${key}\``, label(occ), ...cols.flatMap((c) => {
        const b = best(occ, c);
        return b === null ? ['–', ''] : [formatFigure(c, b.value), runId(b.run)];
      })]),
    ),
  );
  if (n === 1) return [...lines, '', 'One run so far: its figures are the best and the whole history.'];
  const primary = cols[0];
  lines.push('', `History of ${titleOf(primary)}, oldest first:`, '');
  for (const [key, occ] of rows) {
    const points = occ.filter((o) => typeof o.row.figures[primary.key] === 'number').map((o) => `${formatFigure(primary, o.row.figures[primary.key])} (${runId(o.run)})`);
    lines.push(`- \`${key}\`: ${points.length ? points.join(' · ') : '–'}`);
  }
  return lines;
}

/**
 * The whole of bench/RESULTS.md for `runs` (validated run documents, any order).
 * @param {object[]} runs
 * @returns {string}
 */
function renderResults(runs) {
  if (runs.length === 0) throw new Error('bench/results: no run files to render');
  const ordered = [...runs].sort(byOrder);
  const latest = ordered[ordered.length - 1];
  // Scripts whose latest run is newest come first; a tie goes by name.
  const scripts = [...new Set(ordered.map((r) => r.script))].sort((a, b) => {
    const last = (s) => ordered.filter((r) => r.script === s).pop();
    return byOrder(last(b), last(a)) || (a < b ? -1 : a > b ? 1 : 0);
  });
  const lines = [
    '# phyr benchmark results',
    '',
    '<!-- Generated by bench/results/render.js from bench/results/*.json. Do not edit: add a run file and regenerate. -->',
    '',
    `Generated by \`node bench/results/render.js\` from the ${ordered.length} run files in \`bench/results/\``,
    `(${runId(ordered[0])} to ${runId(latest)}; a run is named by its date and its order that day).`,
    'Do not edit this file: a benchmark script writes its run as a file there and regenerates',
    'this one (docs/BENCH.md, "Results"). Every run names its machine and load; compare figures',
    'across runs only with both in mind (the 2 cores of these machines were shared with other work).',
    '',
    ...runIndex(ordered),
    '',
    ...latestRun(latest),
    '',
    '## Best figure per row, and its history',
    '',
    'Per script: every row key seen in its runs with the best of each compared figure (highest',
    'IOPS, lowest ns, as its column says) and the run that measured it (a tie goes to the earlier',
    'run); then one line per row with the first compared figure of every run that has it. Each',
    'script\'s part keeps the method and notes of its own latest run.',
  ];
  for (const s of scripts) lines.push('', ...perScript(s, ordered.filter((r) => r.script === s), latest));
  return lines.join('\n') + '\n';
}

module.exports = { renderResults };
