// Seeded fuzzing of the text parsers: the emulator target string (emu/target.ts), its
// fault specs (emu/faults.ts) and fio job files (bench/cli/jobfile.ts, through
// `phyr bench`'s configuration in bench/cli/config.ts). Each run mutates a corpus of
// valid inputs with a fixed-seed PRNG for a fixed number of iterations, so a failure
// reproduces exactly: the message names the seed, the iteration and the input.
// The contract: a parser returns a well-formed value or throws a PhyrError with a stable
// 'PHYR_' code and a message; never another error type, never a slow or endless parse.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import t, { type Test } from 'tap';
import { PhyrError } from '../../lib/errors';
import { parseFault, type FaultRuleSpec } from '../../emu/faults';
import { parseEmuTarget, type EmuOptions } from '../../emu/target';
import { parseBenchArgs } from '../../bench/cli/config';
import { parseJobFile } from '../../bench/cli/jobfile';

/** mulberry32: a small deterministic PRNG (32-bit state). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const below = (r: Rand, n: number): number => Math.floor(r() * n);

// Pieces that matter to these grammars: separators, units, numbers at and past the limits,
// names an object literal inherits, and text no parser expects.
const TOKENS = [
  ',', '=', ':', '+', '-', '.', '[', ']', ';', '#', '\n', '\r\n', ' ', '\t', '0x', '${HOME}', '${X}', '${',
  '0', '1', '-1', '4096', '65536', '65537', '1024', '1025', '4294967295', '4294967296', '9007199254740991',
  '9007199254740993', '99999999999999999999', '1e3', '1.5', '.5', 'NaN', 'Infinity', '9'.repeat(400),
  'K', 'M', 'G', 'T', 'P', 'B', 'iB', 'k', 'ns', 'us', 'µs', 'ms', 's', 'exp:', 'file:', 'null', 'ram',
  '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype',
  'emu', 'emu:', 'size', 'ns', 'lbads', 'queues', 'qsize', 'mdts', 'sgl', 'cmb', 'latency', 'iops', 'bw',
  'inflight', 'faults', 'serial', 'backend', 'fail', 'drop', 'delay', 'cfs', 'stop', 'resume', 'corrupt',
  'clear', 'nth', 'lba', 'nsid', 'status', 'op', 'qid', 'time', 'after', 'byte', 'read', 'write',
  '\u0000', '\u00ff', '\u2028', '\ud800', 'é', '😀', '"', "'", '\\', '%', '$', '*', '(', ')',
];

/** One mutation of `s`, drawing material from the token list and the other corpus inputs. */
function mutate(r: Rand, s: string, corpus: readonly string[]): string {
  const at = below(r, s.length + 1);
  switch (below(r, 9)) {
    case 0: // insert a token
      return s.slice(0, at) + pick(r, TOKENS) + s.slice(at);
    case 1: { // delete a span
      const n = 1 + below(r, 8);
      return s.slice(0, at) + s.slice(at + n);
    }
    case 2: { // replace a span with a token
      const n = 1 + below(r, 6);
      return s.slice(0, at) + pick(r, TOKENS) + s.slice(at + n);
    }
    case 3: { // duplicate a span
      const n = 1 + below(r, 16);
      return s.slice(0, at) + s.slice(at, at + n) + s.slice(at);
    }
    case 4: { // splice with another input
      const o = pick(r, corpus);
      return s.slice(0, at) + o.slice(below(r, o.length + 1));
    }
    case 5: // replace a number with another
      return s.replace(/\d+/, () => pick(r, TOKENS.filter((x) => /^\d/.test(x))));
    case 6: { // flip one character's code
      if (s.length === 0) return s;
      const i = below(r, s.length);
      return s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ (1 << below(r, 8))) + s.slice(i + 1);
    }
    case 7: // grow: repeat the input (long inputs, many items)
      return s + pick(r, [',', '+', '\n', ':', '']) + s;
    default: // a random printable character
      return s.slice(0, at) + String.fromCharCode(32 + below(r, 95)) + s.slice(at);
  }
}

interface Outcome {
  accepted: number;
  rejected: number;
}

/**
 * Runs `iterations` mutated inputs per seed through `parse`; `check` validates an accepted
 * value. Any other error type, a PhyrError without a PHYR_ code or message, or a call
 * slower than `slowMs`, fails the test with a reproducer. The bound catches hangs and
 * blow-ups (an input that makes the parser loop or go quadratic), not speed: a job file
 * through the bench configuration takes a few ms, and a machine five times oversubscribed
 * once stretched one to 614 ms, so the bound sits well above that.
 */
function fuzz<T>(
  tt: Test,
  what: string,
  corpus: readonly string[],
  seeds: readonly number[],
  iterations: number,
  parse: (input: string) => T,
  check: (value: T, input: string) => string | null,
  slowMs = 2000,
): Outcome {
  const out: Outcome = { accepted: 0, rejected: 0 };
  const problems: string[] = [];
  for (const seed of seeds) {
    const r = prng(seed);
    for (let i = 0; i < iterations && problems.length < 5; i++) {
      let input = pick(r, corpus);
      const rounds = 1 + below(r, 4);
      for (let k = 0; k < rounds; k++) input = mutate(r, input, corpus);
      if (input.length > 64 * 1024) input = input.slice(0, 64 * 1024);
      const where = `${what} seed ${seed} iteration ${i}: ${JSON.stringify(input.length > 300 ? input.slice(0, 300) + '…' : input)}`;
      const t0 = performance.now();
      try {
        const v = parse(input);
        const bad = check(v, input);
        if (bad) problems.push(`${where}: accepted, but ${bad}`);
        else out.accepted++;
      } catch (e) {
        if (!(e instanceof PhyrError)) {
          problems.push(`${where}: threw ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}, not a PhyrError`);
        } else if (!/^PHYR_[A-Z0-9_]+$/.test(e.code) || e.message.length < 10) {
          problems.push(`${where}: PhyrError with code '${e.code}' and message '${e.message}'`);
        } else {
          out.rejected++;
        }
      }
      const ms = performance.now() - t0;
      if (ms > slowMs) problems.push(`${where}: took ${ms.toFixed(0)} ms`);
    }
  }
  tt.same(problems, [], `${what}: every input parsed or was refused with a PhyrError`);
  return out;
}

const isInt = (v: unknown, min: number, max: number): boolean => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

// What an accepted fault spec must look like (the native device takes it as is).
function checkFault(f: FaultRuleSpec): string | null {
  const kinds = ['fail', 'fail-lba', 'drop', 'delay', 'cfs', 'stop', 'resume', 'clear', 'corrupt'];
  if (!kinds.includes(f.kind)) return `kind ${String(f.kind)}`;
  const limits: Array<[keyof FaultRuleSpec, number, number]> = [
    ['nth', 1, Number.MAX_SAFE_INTEGER], ['lba', 0, Number.MAX_SAFE_INTEGER], ['nsid', 1, 0xfffffffe],
    ['status', 1, 0x7fff], ['opcode', 0, 255], ['qid', 0, 65535], ['delayNs', 0, Number.MAX_SAFE_INTEGER],
    ['after', 0, Number.MAX_SAFE_INTEGER], ['byte', 0, 4095],
  ];
  for (const [k, min, max] of limits) {
    if (f[k] !== undefined && !isInt(f[k], min, max)) return `${k} is ${String(f[k])}, not an integer ${min}..${max}`;
  }
  return null;
}

function checkTarget(o: EmuOptions): string | null {
  if (!['null', 'ram', 'file'].includes(o.backend)) return `backend ${o.backend}`;
  if (o.backend === 'file' && !o.path) return 'backend file without a path';
  if (!isInt(o.namespaces, 1, 1024)) return `namespaces ${o.namespaces}`;
  if (o.lbads !== 9 && o.lbads !== 12) return `lbads ${o.lbads}`;
  if (!isInt(o.nsBytes, 2 ** o.lbads, 2 ** 46) || o.nsBytes % 2 ** o.lbads !== 0) return `nsBytes ${o.nsBytes}`;
  if (o.nsBytes * o.namespaces > 2 ** 46) return 'ns x size past 64 TiB';
  if (!isInt(o.queues, 1, 1024) || !isInt(o.qsize, 2, 65536) || !isInt(o.mdts, 0, 15)) return 'queues, qsize or mdts out of range';
  if (!['off', 'on', 'dword'].includes(o.sgl)) return `sgl ${o.sgl}`;
  if (!isInt(o.cmbBytes, 0, 2 ** 30) || o.cmbBytes % 4096 !== 0) return `cmbBytes ${o.cmbBytes}`;
  for (const k of ['iops', 'bandwidth', 'inflight'] as const) {
    if (o[k] !== undefined && !isInt(o[k], 0, Number.MAX_SAFE_INTEGER)) return `${k} is ${o[k]}`;
  }
  const l = o.latency;
  if (l) {
    const ns = l.kind === 'fixed' ? [l.ns] : l.kind === 'uniform' ? [l.minNs, l.maxNs] : [l.meanNs];
    if (!ns.every((n) => isInt(n, 0, Number.MAX_SAFE_INTEGER))) return `latency ${JSON.stringify(l)} is not a whole number of nanoseconds`;
  }
  if (typeof o.serial !== 'string' || !/^[\x21-\x7e]{1,20}$/.test(o.serial)) return `serial ${JSON.stringify(o.serial)}`;
  for (const f of o.faults) {
    const bad = checkFault(parseFault(f));
    if (bad) return `fault '${f}': ${bad}`;
  }
  return null;
}

const SEEDS = [1, 0xc0ffee, 20261201];

const TARGETS = [
  'emu',
  'emu:',
  'emu:size=16M',
  'emu:backend=null,ns=4,lbads=12,size=1G',
  'emu:backend=file:/tmp/phyr-fuzz-never-opened.img,size=64M',
  'emu:queues=8,qsize=256,mdts=5,sgl=dword,cmb=16M',
  'emu:sgl=on,mdts=0,cmb=off',
  'emu:latency=80us,iops=2000,bw=2G,inflight=64',
  'emu:latency=60us-100us',
  'emu:latency=exp:1.5ms,serial=ABC-123',
  'emu:faults=fail:nth=100:status=0x281+corrupt:lba=100',
  'emu:faults=drop:nth=7:op=read:qid=1+delay:time=500us:nth=3',
  'emu:faults=cfs:after=50+stop:qid=2+resume:qid=2+clear',
  'emu:faults=fail:lba=12:nsid=1:status=0x4002,size=1M',
];

const FAULTS = [
  'fail:nth=1',
  'fail:nth=100:status=0x281:op=write:qid=3',
  'fail:lba=0:nsid=2:status=6',
  'drop:nth=2:op=0x02',
  'delay:time=1.5ms:nth=4:op=flush',
  'cfs',
  'cfs:after=10',
  'stop:qid=1',
  'resume:qid=65535',
  'corrupt:lba=5:nsid=1:nth=2:byte=511',
  'clear',
];

const JOBS = [
  '[global]\nbs=4k\nioengine=phyr\n[reader]\nrw=randread\niodepth=32\nruntime=1\ntime_based\n',
  '; comment\n[w]\nrw=write\nbs=128k\nsize=16m\n\n[r]\nstonewall\nrw=read\nbs=4k,64k\n',
  '[global]\nsize=${SIZE}\n[job1]\nrw=randrw\nrwmixread=70\nnumjobs=2\n[global]\nbs=8k\n[job2]\nrw=read\n',
  '[verify]\nrw=write\nbs=4k\nsize=1m\nverify=crc32c\ndo_verify=1\n',
];

t.test('emulator target strings', async (t) => {
  const o = fuzz(t, 'target', TARGETS, SEEDS, 4000, parseEmuTarget, checkTarget);
  t.ok(o.accepted > 100 && o.rejected > 1000, `both outcomes exercised (${o.accepted} accepted, ${o.rejected} refused)`);
});

t.test('fault specs', async (t) => {
  const o = fuzz(t, 'fault', FAULTS, SEEDS, 4000, parseFault, checkFault);
  t.ok(o.accepted > 100 && o.rejected > 1000, `both outcomes exercised (${o.accepted} accepted, ${o.rejected} refused)`);
});

t.test('job file sections (INI layer)', async (t) => {
  const env = { SIZE: '1m', HOME: '/root' };
  const o = fuzz(t, 'jobfile', JOBS, SEEDS, 3000, (text) => parseJobFile(text, 'fuzz.fio', env), (sections) => {
    for (const s of sections) {
      if (typeof s.name !== 'string' || s.name === '') return 'a section without a name';
      for (const opt of s.options) if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(opt.key)) return `option name '${opt.key}'`;
    }
    return null;
  });
  t.ok(o.accepted > 100 && o.rejected > 100, `both outcomes exercised (${o.accepted} accepted, ${o.rejected} refused)`);
});

t.test('job files through the bench configuration', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-jobfuzz-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'job.fio');
  const env = { SIZE: '1m' };
  const o = fuzz(t, 'bench job file', JOBS, SEEDS, 1000, (text) => {
    fs.writeFileSync(file, text);
    return parseBenchArgs([file], env);
  }, (cfg) => (cfg.jobs.length > 0 ? null : 'no jobs'));
  t.ok(o.accepted > 20 && o.rejected > 100, `both outcomes exercised (${o.accepted} accepted, ${o.rejected} refused)`);
});
