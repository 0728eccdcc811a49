// fio job files: INI with a [global] section and one section per job. As in fio 3.33:
// `;` and `#` start comments, an option without `=` is a flag, ${VAR} expands from the
// environment in option names and values (not in section names, as fio), an unset
// variable is an error (fio leaves it and then fails to parse the value), `$ncpus`,
// `$mb_memory` and `$pagesize` expand in values (expr.ts), `include FILE` reads FILE in
// place (relative to the including file's folder, else the working directory), and
// [global] may appear more than once (it applies to the jobs after it).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { JOB_FILE_MAX_BYTES, readBoundedTextFile } from '../../lib/files';
import { BenchConfigError } from './errors';
import { expandKeywords, type HostFacts } from './expr';

/** One `key[=value]` line, with where it came from for error messages. */
export interface JobFileOption {
  key: string;
  value: string | undefined;
  line: number;
  /** The file the line is in (an included file's path, for an included line). */
  source?: string;
}

/** A section of a job file, in file order. */
export interface JobFileSection {
  name: string;
  global: boolean;
  options: JobFileOption[];
}

/** What parsing a job file may read besides its text and the environment. */
export interface JobFileHost {
  /** The figures behind $ncpus, $mb_memory, $pagesize (default: this host's). */
  facts?: HostFacts;
  /** Reads an included file, or answers undefined when there is none (default: a bounded regular-file read). */
  readInclude?(file: string): string | undefined;
}

/** Nesting limit of `include` (a file that includes itself is refused before this). */
export const JOB_FILE_INCLUDE_DEPTH = 16;

/** This host's figures for fio's keywords. */
export function hostFacts(): HostFacts {
  // The page size of every Linux target phyr supports (x86-64, arm64 with 4 KiB pages).
  return { ncpus: os.cpus().length, mbMemory: Math.floor(os.totalmem() / (1 << 20)), pagesize: 4096 };
}

function expandEnv(text: string, env: NodeJS.ProcessEnv, where: string): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = env[name];
    if (v === undefined) throw new BenchConfigError(`${where}: environment variable ${name} is not set (used as \${${name}}); set it or write the value`);
    return v;
  });
}

interface SourceLine { text: string; source: string; line: number }

function readLines(text: string, source: string, host: JobFileHost, stack: string[]): SourceLine[] {
  const out: SourceLine[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    const cut = line.search(/[;#]/);
    if (cut >= 0) line = line.slice(0, cut);
    line = line.trim();
    if (line === '') continue;
    const inc = /^include\s+(.+)$/.exec(line);
    if (!inc) {
      out.push({ text: line, source, line: i + 1 });
      continue;
    }
    const where = `${source}:${i + 1}`;
    const name = inc[1].trim();
    const local = path.resolve(path.dirname(source), name);
    // The default reader answers undefined for a missing file and refuses anything else
    // that is not a bounded regular file (as for the job file itself).
    const read = host.readInclude ?? ((f: string) => (fs.existsSync(f) ? readBoundedTextFile(f, 'included job file', 'PHYR_BENCH_BAD_JOB_FILE', JOB_FILE_MAX_BYTES) : undefined));
    let file = local;
    let body: string | undefined;
    for (const candidate of path.isAbsolute(name) ? [name] : [local, path.resolve(name)]) {
      body = read(candidate);
      if (body !== undefined) {
        file = candidate;
        break;
      }
    }
    if (body === undefined) throw new BenchConfigError(`${where}: include ${name}: no such file (looked in ${path.dirname(source)} and the working directory)`, 'PHYR_BENCH_BAD_JOB_FILE');
    if (stack.includes(file)) throw new BenchConfigError(`${where}: include ${name}: the file includes itself (${[...stack, file].join(' -> ')})`, 'PHYR_BENCH_BAD_JOB_FILE');
    if (stack.length >= JOB_FILE_INCLUDE_DEPTH) throw new BenchConfigError(`${where}: include ${name}: more than ${JOB_FILE_INCLUDE_DEPTH} nested includes`, 'PHYR_BENCH_BAD_JOB_FILE');
    out.push(...readLines(body, file, host, [...stack, file]));
  }
  return out;
}

/** Parses job-file text into sections; `source` names the file in errors (and anchors includes). */
export function parseJobFile(text: string, source = 'job file', env: NodeJS.ProcessEnv = process.env, host: JobFileHost = {}): JobFileSection[] {
  let facts: HostFacts | undefined = host.facts;
  const sections: JobFileSection[] = [];
  let current: JobFileSection | undefined;
  for (const { text: line, source: file, line: n } of readLines(text, source, host, [path.resolve(source)])) {
    const where = `${file}:${n}`;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      const name = header[1].trim();
      if (name === '') throw new BenchConfigError(`${where}: empty section name '[]'`);
      current = { name, global: name === 'global', options: [] };
      sections.push(current);
      continue;
    }
    if (!current) throw new BenchConfigError(`${where}: '${line}' comes before any [section]; start with [global] or [jobname]`);
    const eq = line.indexOf('=');
    const key = expandEnv((eq >= 0 ? line.slice(0, eq) : line).trim(), env, where);
    let value = eq >= 0 ? expandEnv(line.slice(eq + 1).trim(), env, where) : undefined;
    if (value !== undefined && value.includes('$')) value = expandKeywords(value, (facts ??= hostFacts()), `${where}: ${key}`);
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) throw new BenchConfigError(`${where}: '${key}' is not an option name`);
    current.options.push({ key, value, line: n, source: file });
  }
  return sections;
}
