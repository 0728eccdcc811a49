#!/usr/bin/env node
// The fuzz tier: builds every libFuzzer target in this folder (Makefile) and runs each for
// a fixed time over its committed corpus (corpus/NAME, plus the inputs of past findings
// in regress/NAME). Prints per target the executions and the findings, and ends with
// "N passed, N failed": a target passes when it ran its budget without a crash, a leak, a
// timeout or an out-of-memory; a build failure fails every target.
//   node test/fuzz/run.js [NAME ...]        PHYR_FUZZ_SECONDS=N (default 45) per target
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const DIR = __dirname;
const TARGETS = ['emu_sqe', 'dptr'];
const SECONDS = Number(process.env.PHYR_FUZZ_SECONDS ?? 45);

function run(cmd, args, opts = {}) {
  const child = spawnSync(cmd, args, { cwd: DIR, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  return { status: child.status ?? 1, signal: child.signal, out: (child.stdout ?? '') + (child.stderr ?? '') };
}

function main() {
  const only = process.argv.slice(2);
  const targets = only.length ? TARGETS.filter((t) => only.includes(t)) : TARGETS;
  if (!Number.isFinite(SECONDS) || SECONDS <= 0) {
    console.log(`PHYR_FUZZ_SECONDS must be a positive number of seconds, not ${process.env.PHYR_FUZZ_SECONDS}`);
    console.log(`0 passed, ${targets.length} failed`);
    process.exit(1);
  }
  const built = run('make', ['-s', '-j2', ...targets.map((t) => `out/${t}`)]);
  process.stdout.write(built.out);
  if (built.status !== 0) {
    console.log('fuzz: the targets did not build (see above)');
    console.log(`0 passed, ${targets.length} failed`);
    process.exit(1);
  }
  let passed = 0;
  let failed = 0;
  for (const t of targets) {
    const work = path.join(DIR, 'out', `work-${t}`);
    const artifacts = path.join(DIR, 'out', 'artifacts', t) + '/';
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    fs.mkdirSync(artifacts, { recursive: true });
    const dirs = [work, path.join(DIR, 'corpus', t), path.join(DIR, 'regress', t)].filter((d) => fs.existsSync(d));
    // -timeout: one input running 10 s is a hang; -rss_limit_mb: 2 GiB is unbounded growth.
    // LeakSanitizer is on (libFuzzer with ASan): a leak is a finding like a crash.
    const args = [`-max_total_time=${SECONDS}`, '-timeout=10', '-rss_limit_mb=2048', '-print_final_stats=1', `-artifact_prefix=${artifacts}`, ...dirs];
    const t0 = Date.now();
    const r = run(path.join(DIR, 'out', t), args, { timeout: (SECONDS + 120) * 1000 });
    const seconds = (Date.now() - t0) / 1000;
    const stat = (name) => {
      const m = r.out.match(new RegExp(`^stat::${name}:\\s+(\\d+)`, 'm'));
      return m ? Number(m[1]) : null;
    };
    const execs = stat('number_of_executed_units');
    const added = stat('new_units_added');
    const inputs = (r.out.match(/INFO: seed corpus: files: (\d+)/) ?? [])[1] ?? '0';
    const findings = [...r.out.matchAll(/^SUMMARY: (.*)$/gm)].map((m) => m[1]);
    const written = [...r.out.matchAll(/Test unit written to (\S+)/g)].map((m) => m[1]);
    const ok = r.status === 0 && !r.signal && findings.length === 0 && execs !== null;
    if (ok) {
      passed++;
      console.log(`ok - fuzz ${t}: ${execs} executions in ${seconds.toFixed(0)} s over ${inputs} corpus inputs, ${added} new units, 0 findings`);
    } else {
      failed++;
      // The fuzzer's own report (stack, input) is what a reader needs: show its tail.
      process.stdout.write(r.out.split('\n').slice(-60).join('\n') + '\n');
      const what = findings.length ? findings.join('; ') : r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
      console.log(`not ok - fuzz ${t}: FINDING after ${execs ?? '?'} executions: ${what}`);
      for (const w of written) console.log(`    reproduce: test/fuzz/out/${t} ${path.relative(DIR, w)}  (from test/fuzz)`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
