#!/usr/bin/env node
// `npm test`: runs every test tier that can run on this machine, in order, and ends with
// one plain line "N passed, N failed". A tier that cannot run says why, loudly; with
// PHYR_REQUIRE_ALL_TIERS=1 (set by CI) such a tier counts as a failure.
//   node test/run-tiers.js [TIER ...]    run only the named tiers
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const REQUIRE_ALL = process.env.PHYR_REQUIRE_ALL_TIERS === '1';
// Everything the commands of the running tier printed, for failedNames().
let lastOut = '';
const bin = (name) => path.join(ROOT, 'node_modules', '.bin', name);

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

// Runs a command with output streamed and captured; returns { status, out }.
function run(cmd, args, opts = {}) {
  const child = spawnSync(cmd, args, {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: opts.timeoutMs,
  });
  const out = (child.stdout ?? '') + (child.stderr ?? '');
  process.stdout.write(out);
  lastOut += out;
  return { status: child.status ?? 1, out };
}

// The failed tests named in a tier's output, innermost first: "not ok" lines, each with the
// path of TAP subtests around it ("# Subtest: NAME", four spaces deeper per level), so the
// summary at the end of a long log says which test failed without a search through it.
function failedNames(out) {
  const stack = [];
  const names = [];
  for (const line of out.split('\n')) {
    const sub = /^( *)# Subtest: (.*)$/.exec(line);
    if (sub) {
      stack.length = Math.floor(sub[1].length / 4);
      stack.push(sub[2]);
      continue;
    }
    const bad = /^( *)not ok\b(?: \d+)?(?: - )?(.*)$/.exec(line);
    if (!bad) continue;
    const depth = Math.floor(bad[1].length / 4);
    const where = [...stack.slice(0, depth), bad[2].replace(/ # .*$/, '')].join(' > ');
    // A parent that fails because a child failed adds nothing to the child's line.
    if (!names.some((n) => n.startsWith(`${where} > `))) names.push(where);
  }
  return names;
}

// Counts from a closing "N passed, N failed" line (native tests, VM tier).
function plainCounts({ out, status }) {
  const m = [...out.matchAll(/^(\d+) passed, (\d+) failed/gm)].pop();
  if (!m) return { passed: 0, failed: 1, note: 'no result line' };
  const failed = Number(m[2]) + (status !== 0 && Number(m[2]) === 0 ? 1 : 0);
  return { passed: Number(m[1]), failed };
}

// Counts from tap's closing "# { total: N, pass: N, fail: N }" (other keys may follow).
function tapCounts({ out, status }) {
  const m = [...out.matchAll(/^# \{ total: (\d+), pass: (\d+)(?:, fail: (\d+))?/gm)].pop();
  if (!m) return { passed: 0, failed: 1, note: 'no tap summary' };
  const failed = Number(m[3] ?? 0) + (status !== 0 && !m[3] ? 1 : 0); // coverage shortfall
  return { passed: Number(m[2]), failed };
}

// The kernel series the `vm` tier boots (the release's default).
const DEFAULT_KERNEL = defaultKernelSeries();

const tiers = [
  {
    name: 'layout',
    // One-way layers and no import circles (test/layout/check-imports.js); needs only node.
    // The spec twins are generated (spec/generate.js): write them first, so imports of
    // spec/*.ts resolve in a checkout that was pulled without reinstalling.
    run: () => {
      if (run(process.execPath, [path.join(ROOT, 'spec', 'generate.js')]).status !== 0) return { passed: 0, failed: 1, note: 'spec/generate.js failed' };
      return run(process.execPath, [path.join(ROOT, 'test', 'layout', 'check-imports.js')]).status === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
    },
  },
  {
    name: 'typecheck',
    run: () => {
      if (run(process.execPath, [path.join(ROOT, 'spec', 'generate.js')]).status !== 0) return { passed: 0, failed: 1, note: 'spec/generate.js failed' };
      const r = run(bin('tsc'), ['-p', 'tsconfig.test.json']);
      return r.status === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
    },
  },
  {
    name: 'spec-literals',
    // An NVMe opcode, status, register offset or PCI bit written as a number outside spec/
    // and test/ fails here: every room takes them from spec/ (test/layout/check-spec-literals.js).
    run: () => (run(process.execPath, [path.join(ROOT, 'test', 'layout', 'check-spec-literals.js')]).status === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 }),
  },
  {
    name: 'native',
    why: () => (which('g++') && which('make') ? null : 'g++ and make are needed (apt-get install g++ make)'),
    run: () => plainCounts(run('make', ['-s', '-C', 'test/native', 'SAN=plain'])),
  },
  {
    name: 'native-asan',
    why: () => (which('g++') ? null : 'g++ is needed'),
    run: () => plainCounts(run('make', ['-s', '-C', 'test/native', 'SAN=asan'])),
  },
  {
    name: 'native-tsan',
    why: () => (which('g++') ? null : 'g++ is needed'),
    // ThreadSanitizer covers the cases where a device thread runs beside the driver.
    run: () => plainCounts(run('make', ['-s', '-C', 'test/native', 'SAN=tsan', 'FILTER=thread'], { env: { TSAN_OPTIONS: 'halt_on_error=1' } })),
  },
  {
    name: 'unit+emu',
    why: () => (fs.existsSync(path.join(ROOT, 'build', 'Release', 'phyr.node')) ? null : 'the addon is not built: run npm install'),
    // One tap run over both tiers, so the coverage thresholds in package.json see them whole.
    run: () => tapCounts(run(bin('tap'), ['--reporter=tap', 'test/unit', 'test/emu'])),
  },
  {
    name: 'fuzz',
    why: fuzzMissing,
    // libFuzzer targets with ASan/UBSan over their committed corpus, a fixed time each
    // (test/fuzz/run.js); a crash, leak, hang or runaway memory is a failed test.
    run: () => plainCounts(run(process.execPath, [path.join(ROOT, 'test', 'fuzz', 'run.js')], { timeoutMs: 15 * 60 * 1000 })),
  },
  // The VM tier once per kernel: the release's default kernel and its 6.12 package, so
  // phyr is proven against the kernel's VFIO as it is today. Each boots the guest once.
  vmTier('vm', DEFAULT_KERNEL, 'the release\'s default kernel (linux-image-amd64)'),
  vmTier('vm-6.12', '6.12', "the release's 6.12 kernel package (linux-image-6.12-amd64)"),
];

// The fuzz tier needs clang with its sanitizer and libFuzzer runtimes (Debian 12: the
// runtimes are in libclang-rt-14-dev, not in the clang package).
function fuzzMissing() {
  const hint = 'apt-get install -y --no-install-recommends clang libclang-rt-14-dev';
  if (!which('clang++') || !which('make')) return `clang++ and make are needed: ${hint}`;
  const dir = spawnSync('clang++', ['-print-runtime-dir'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const missing = ['libclang_rt.fuzzer-x86_64.a', 'libclang_rt.asan-x86_64.a'].filter((f) => !fs.existsSync(path.join(dir, f)));
  if (missing.length) return `clang's runtime ${missing.join(', ')} is missing from ${dir || 'its runtime directory'}: ${hint}`;
  return null;
}

// The kernel series linux-image-amd64 depends on (Debian 12: 6.1), from dpkg; 6.1 without it.
function defaultKernelSeries() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Depends}', 'linux-image-amd64'], { encoding: 'utf8' });
  const m = /linux-image-(\d+\.\d+)[.-]/.exec(r.stdout ?? '');
  return m ? m[1] : '6.1';
}

// True when kernel `version` is `series` or starts with it at a field boundary (as
// tools/vm/prereqs.ts kernelMatches: 6.1 matches 6.1.0-57-amd64, not 6.12.117+deb12-amd64).
const kernelMatches = (version, series) => version === series || (version.startsWith(series) && /^[.+-]/.test(version.slice(series.length)));

// The tier that boots the newest installed kernel of `series` (PHYR_VM_KERNEL for the runner).
function vmTier(name, series, what) {
  return {
    name,
    why: () => vmMissing(series, what),
    run: () => {
      const built = run(bin('tsc'), ['-p', 'test/vm/tsconfig.json']);
      if (built.status !== 0) return { passed: 0, failed: 1, note: 'test/vm did not compile' };
      // The guest mounts its own /tmp over the host root it shares, so a package cloned
      // under /tmp would be invisible there: run the tier from a copy under /var/tmp.
      let cwd = ROOT;
      if (ROOT === '/tmp' || ROOT.startsWith('/tmp/')) {
        cwd = fs.mkdtempSync('/var/tmp/phyr-vm-tier-');
        console.log(`vm tier: the package is under /tmp; running the tier from a copy in ${cwd}`);
        const copied = run('cp', ['-a', `${ROOT}/.`, cwd]);
        if (copied.status !== 0) return { passed: 0, failed: 1, note: 'could not copy the package out of /tmp' };
      }
      try {
        const r = plainCounts(run(process.execPath, [path.join(cwd, 'build', 'vm-ts', 'test', 'vm', 'runner.js')], { cwd, timeoutMs: 30 * 60 * 1000, env: { PHYR_VM_KERNEL: series } }));
        return { ...r, note: [`kernel ${series}`, r.note].filter(Boolean).join('; ') };
      } finally {
        if (cwd !== ROOT) fs.rmSync(cwd, { recursive: true, force: true });
      }
    },
  };
}

// The VM tier needs QEMU, a Debian kernel of `series` with modules (xz/zstd to decompress
// compressed ones) and a static busybox (tools/vm).
function vmMissing(series, what) {
  const missing = [];
  if (!which('qemu-system-x86_64')) missing.push('qemu-system-x86');
  let kernels = [];
  try {
    kernels = fs
      .readdirSync('/boot')
      .filter((n) => n.startsWith('vmlinuz-') && kernelMatches(n.slice(8), series) && fs.existsSync(`/lib/modules/${n.slice(8)}/modules.dep`));
  } catch {
    /* no /boot */
  }
  if (!kernels.length) missing.push(`a ${series} kernel with its modules, ${what}`);
  if (!['/bin/busybox', '/usr/bin/busybox'].some((p) => fs.existsSync(p))) missing.push('busybox-static');
  if (!which('xz') || !which('zstd')) missing.push('xz-utils and zstd (compressed kernel modules)');
  if (missing.length) return `missing ${missing.join(', ')}: apt-get install -y --no-install-recommends qemu-system-x86 linux-image-amd64 linux-image-6.12-amd64 xz-utils zstd busybox-static`;
  if (!fs.existsSync(path.join(ROOT, 'build', 'Release', 'phyr.node'))) return 'the addon is not built: run npm install';
  return null;
}

function main() {
  const only = process.argv.slice(2);
  const unknown = only.filter((n) => !tiers.some((t) => t.name === n));
  if (unknown.length) {
    console.error(`unknown tier(s): ${unknown.join(', ')}; tiers are: ${tiers.map((t) => t.name).join(', ')}`);
    process.exit(2);
  }
  const results = [];
  for (const tier of tiers) {
    if (only.length && !only.includes(tier.name)) continue;
    const reason = tier.why ? tier.why() : null;
    if (reason) {
      const line = `!!! TIER ${tier.name} CANNOT RUN HERE: ${reason}`;
      console.log(`\n${'!'.repeat(line.length)}\n${line}\n${'!'.repeat(line.length)}`);
      results.push({ name: tier.name, passed: 0, failed: REQUIRE_ALL ? 1 : 0, skipped: reason });
      continue;
    }
    console.log(`\n=== tier ${tier.name} ===`);
    const t0 = Date.now();
    lastOut = '';
    const r = tier.run();
    results.push({ name: tier.name, ...r, failedNames: r.failed ? failedNames(lastOut) : [], seconds: (Date.now() - t0) / 1000 });
  }
  console.log('\n=== summary ===');
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const r of results) {
    passed += r.passed;
    failed += r.failed;
    if (r.skipped) skipped++;
    const state = r.skipped ? `SKIPPED (${r.skipped})${REQUIRE_ALL ? ' -> counted as a failure' : ''}` : `${r.passed} passed, ${r.failed} failed${r.note ? ` (${r.note})` : ''} in ${r.seconds.toFixed(1)} s`;
    console.log(`${r.name.padEnd(12)} ${state}`);
    const names = r.failedNames ?? [];
    for (const n of names.slice(0, 20)) console.log(`  not ok: ${n}`);
    if (names.length > 20) console.log(`  ... and ${names.length - 20} more "not ok" lines above`);
  }
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main();
