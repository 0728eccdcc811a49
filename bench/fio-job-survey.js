#!/usr/bin/env node
// Survey (not a test): what `phyr bench` makes of a folder of fio job files, as a fio user
// would try them. Each file is checked by real fio (`fio --parse-only`), parsed by phyr
// (in process, so a crash in the parser is told apart from a refusal by its error class)
// and, when phyr takes it, run on the TARGET. Neither fio nor phyr can override a job
// file's own runtime or size from the command line (command-line options are globals the
// file overrides, as in fio), so a long job is stopped at the cap with SIGINT, which phyr
// answers as fio does: the jobs stop and the report covers what ran.
//   node bench/fio-job-survey.js [--target=emu:backend=ram,size=256M] [--null-target=null] [--cap=5] [--fio=fio] [--json] DIR|FILE...
// A file written for fio's null engine (ioengine=null) runs on --null-target, phyr's twin.
// Needs dist/ (npm run build:ts) and the addon. Each file is one line of the table:
//   runs            the run ended by itself (or at the cap), exit 0, no notice
//   runs+notices    the same, with notice lines (options replaced or accepted with a word)
//   refused         phyr named an option it does not take and why (or another check failed)
//   unknown         phyr does not know an option of the file
//   failed          the run started and ended in error (exit 1): a job error, worth a look
//   crash           an error that is not phyr's own (a bug), or a signal
//   hang            no exit within the cap plus the grace after SIGINT (a bug)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { parseArgs } = require('util');

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'tools', 'phyr.js');
const configModule = path.join(root, 'dist', 'bench', 'cli', 'config.js');
if (!fs.existsSync(cli) || !fs.existsSync(configModule)) {
  console.error('bench/fio-job-survey: dist/ is not built; run `npm run build:ts` first');
  process.exit(2);
}
const { parseBenchArgs } = require(configModule);
const { PhyrError } = require(path.join(root, 'dist', 'lib', 'errors.js'));

const { values: opts, positionals } = parseArgs({
  options: {
    target: { type: 'string', default: 'emu:backend=ram,size=256M' },
    'null-target': { type: 'string', default: 'null' },
    cap: { type: 'string', default: '5' },
    grace: { type: 'string', default: '10' },
    fio: { type: 'string', default: 'fio' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
if (opts.help || positionals.length === 0) {
  console.error('usage: node bench/fio-job-survey.js [--target=TARGET] [--null-target=TARGET] [--cap=SECONDS] [--grace=SECONDS] [--fio=FIO] [--json] DIR|FILE...');
  process.exit(opts.help ? 0 : 2);
}
const capSec = Number(opts.cap);
const graceSec = Number(opts.grace);
for (const [name, v] of [['cap', capSec], ['grace', graceSec]]) {
  if (!(v > 0 && v <= 600)) {
    console.error(`bench/fio-job-survey: --${name}=${opts[name]}: give seconds between 0 and 600`);
    process.exit(2);
  }
}

/** The job files named: a folder's `*.fio` files (sorted), or the files themselves. */
function jobFiles(args) {
  const out = [];
  for (const a of args) {
    const st = fs.statSync(a);
    if (st.isDirectory()) for (const f of fs.readdirSync(a).filter((n) => n.endsWith('.fio')).sort()) out.push(path.resolve(a, f));
    else out.push(path.resolve(a));
  }
  return out;
}

const firstLine = (s) => (s.split('\n').find((l) => l.trim() !== '' && !/Warning: |--trace-warnings/.test(l)) ?? '').trim();

/** Real fio's verdict: 'ok' or its first error line. */
function fioParse(file) {
  const r = spawnSync(opts.fio, ['--parse-only', path.basename(file)], { cwd: path.dirname(file), encoding: 'utf8', timeout: 30000 });
  if (r.error) return { ok: false, why: `fio did not run: ${r.error.message}` };
  return r.status === 0 ? { ok: true } : { ok: false, why: firstLine(`${r.stderr}\n${r.stdout}`) };
}

/** Which option a phyr refusal names, from its message. */
function optionNamed(message) {
  const unset = /environment variable (\w+) is not set/.exec(message);
  if (unset) return `\${${unset[1]}}`;
  const m = /(?:fio option|unknown option) '([^']+)'/.exec(message) ?? /--([A-Za-z_][\w-]*)=/.exec(message) ?? /\b([a-z_]+)=/.exec(message);
  return m ? m[1] : undefined;
}

/** phyr's parse, in process: the class of the error tells a refusal from a crash. */
function phyrParse(file, target) {
  const cwd = process.cwd();
  try {
    process.chdir(path.dirname(file));
    const config = parseBenchArgs([target, file, '--parse-only']);
    return { ok: true, notices: config.notices };
  } catch (e) {
    if (!(e instanceof PhyrError)) return { ok: false, kind: 'crash', why: `${e && e.name}: ${e && e.message}`, stack: e && e.stack };
    const kind = e.code === 'PHYR_BENCH_UNKNOWN_OPTION' ? 'unknown' : 'refused';
    return { ok: false, kind, code: e.code, option: optionNamed(e.message), why: e.message };
  } finally {
    process.chdir(cwd);
  }
}

/** Runs the file on the TARGET with the JSON report; SIGINT at the cap, SIGKILL after the grace. */
function phyrRun(file, target) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [cli, 'bench', target, file, '--output-format=json', '--eta=never'], { cwd: path.dirname(file), env: { ...process.env, PHYR_DEBUG: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    let capped = false;
    let killed = false;
    const cap = setTimeout(() => { capped = true; child.kill('SIGINT'); }, capSec * 1000);
    const kill = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, (capSec + graceSec) * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(cap);
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr, capped, killed, seconds: (Date.now() - started) / 1000 });
    });
  });
}

/** The IO the JSON report counts, per job. */
function ioOf(stdout) {
  try {
    const doc = JSON.parse(stdout);
    const jobs = doc.jobs ?? [];
    const ios = jobs.map((j) => ['read', 'write', 'trim', 'mixed'].reduce((n, d) => n + (j[d]?.total_ios ?? 0), 0) + (j.sync?.total_ios ?? 0));
    return { jobs: jobs.length, ios: ios.reduce((a, b) => a + b, 0), idle: jobs.filter((_, i) => ios[i] === 0).map((j) => j.jobname) };
  } catch (e) {
    return { jobs: 0, ios: 0, idle: [], unreadable: `the JSON report does not parse (${e.message})` };
  }
}

function noticeLines(stderr) {
  return stderr.split('\n').filter((l) => l.startsWith('phyr bench: notice: '));
}

async function survey(file) {
  const name = path.basename(file);
  const fio = fioParse(file);
  let target = opts.target;
  let parse = phyrParse(file, target);
  // A file written for fio's null engine runs on phyr's twin of it, the null TARGET.
  if (!parse.ok && parse.option === 'ioengine' && /^--ioengine=null \(/.test(parse.why) && opts['null-target'] !== target) {
    target = opts['null-target'];
    parse = phyrParse(file, target);
  }
  const row = { file: name, fio: fio.ok ? 'ok' : `refuses: ${fio.why}`, target };
  if (!parse.ok) return { ...row, verdict: parse.kind, option: parse.option, why: parse.why, stack: parse.stack };
  const run = await phyrRun(file, target);
  const notices = noticeLines(run.stderr);
  const errors = run.stderr.split('\n').filter((l) => l.startsWith('phyr bench: ') && !l.startsWith('phyr bench: notice: ')).map((l) => l.slice('phyr bench: '.length));
  const stack = /\n\s+at .+\(/.test(run.stderr);
  const base = { ...row, notices: notices.length, seconds: Number(run.seconds.toFixed(1)), capped: run.capped };
  if (run.killed) return { ...base, verdict: 'hang', why: `no exit ${graceSec} s after SIGINT at the ${capSec} s cap` };
  if (run.signal) return { ...base, verdict: 'crash', why: `ended by ${run.signal}: ${firstLine(run.stderr)}` };
  if (run.code === 2) {
    // Refused after the parse: a check against the device (size beyond the namespace, ...).
    const why = errors[0] ?? firstLine(run.stderr);
    return { ...base, verdict: stack && !/PHYR_BENCH_/.test(run.stderr) ? 'crash' : 'refused', option: optionNamed(why), why };
  }
  if (run.code !== 0) {
    const crash = stack && !/Phyr|PHYR_/.test(run.stderr.split('\n').find((l) => /Error/.test(l)) ?? '');
    return { ...base, verdict: crash ? 'crash' : 'failed', why: errors.join('; ') || firstLine(run.stderr) };
  }
  const io = ioOf(run.stdout);
  if (io.unreadable) return { ...base, verdict: 'failed', why: io.unreadable };
  const extra = io.idle.length ? `; no IO in ${io.idle.join(', ')}` : '';
  const on = target === opts.target ? '' : ` on ${target}`;
  return { ...base, verdict: notices.length ? 'runs+notices' : 'runs', why: `${io.jobs} job(s), ${io.ios} IOs${on}${run.capped ? `, stopped at the ${capSec} s cap` : ''}${extra}`, noticeText: notices };
}

async function main() {
  const files = jobFiles(positionals);
  const rows = [];
  for (const f of files) {
    const r = await survey(f);
    rows.push(r);
    if (!opts.json) process.stderr.write(`${r.verdict.padEnd(13)} ${r.file}\n`);
  }
  const order = ['runs', 'runs+notices', 'refused', 'unknown', 'failed', 'crash', 'hang'];
  const counts = Object.fromEntries(order.map((k) => [k, rows.filter((r) => r.verdict === k).length]));
  const byOption = {};
  for (const r of rows) if ((r.verdict === 'refused' || r.verdict === 'unknown') && r.option) byOption[`${r.verdict} ${r.option}`] = (byOption[`${r.verdict} ${r.option}`] ?? 0) + 1;
  const fioRefuses = rows.filter((r) => r.fio !== 'ok').length;
  // A file phyr runs that fio refuses would be phyr accepting what fio would not.
  const bothRefuse = rows.filter((r) => r.fio !== 'ok' && (r.verdict === 'refused' || r.verdict === 'unknown')).length;
  const onlyFioRefuses = rows.filter((r) => r.fio !== 'ok' && r.verdict.startsWith('runs')).map((r) => r.file);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ target: opts.target, capSeconds: capSec, files: rows.length, counts, byOption, fioRefuses, bothRefuse, onlyFioRefuses, rows }, null, 2)}\n`);
    return;
  }
  const lines = ['| file | fio --parse-only | phyr | what |', '|---|---|---|---|'];
  const cell = (s) => String(s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');
  for (const r of rows) lines.push(`| ${cell(r.file)} | ${cell(r.fio === 'ok' ? 'ok' : r.fio.slice(0, 80))} | ${r.verdict} | ${cell(r.why)} |`);
  lines.push('', `${rows.length} files on ${opts.target} (cap ${capSec} s): ${order.map((k) => `${counts[k]} ${k}`).join(', ')}; fio --parse-only refuses ${fioRefuses} (phyr refuses ${bothRefuse} of them${onlyFioRefuses.length ? `, and runs ${onlyFioRefuses.join(', ')}` : ''}).`);
  const refusals = Object.entries(byOption).sort((a, b) => b[1] - a[1]);
  if (refusals.length) lines.push(`by option: ${refusals.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e) => {
  console.error(`bench/fio-job-survey: ${e.stack ?? e}`);
  process.exit(1);
});
