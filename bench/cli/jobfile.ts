// fio job files: INI with a [global] section and one section per job. As in fio: `;` and
// `#` start comments, an option without `=` is a flag, ${VAR} expands from the
// environment, and [global] may appear more than once (it applies to the jobs after it).
import { BenchConfigError } from './errors';

/** One `key[=value]` line, with where it came from for error messages. */
export interface JobFileOption {
  key: string;
  value: string | undefined;
  line: number;
}

/** A section of a job file, in file order. */
export interface JobFileSection {
  name: string;
  global: boolean;
  options: JobFileOption[];
}

function expandEnv(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => env[name] ?? '');
}

/** Parses job-file text into sections; `source` names the file in errors. */
export function parseJobFile(text: string, source = 'job file', env: NodeJS.ProcessEnv = process.env): JobFileSection[] {
  const sections: JobFileSection[] = [];
  let current: JobFileSection | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    const cut = line.search(/[;#]/);
    if (cut >= 0) line = line.slice(0, cut);
    line = line.trim();
    if (line === '') continue;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      const name = header[1].trim();
      if (name === '') throw new BenchConfigError(`${source}:${i + 1}: empty section name '[]'`);
      current = { name, global: name === 'global', options: [] };
      sections.push(current);
      continue;
    }
    if (/^include\s/.test(line)) throw new BenchConfigError(`${source}:${i + 1}: 'include' directives are not supported; list several job files instead`);
    if (!current) throw new BenchConfigError(`${source}:${i + 1}: '${line}' comes before any [section]; start with [global] or [jobname]`);
    const eq = line.indexOf('=');
    const key = (eq >= 0 ? line.slice(0, eq) : line).trim();
    const value = eq >= 0 ? expandEnv(line.slice(eq + 1).trim(), env) : undefined;
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) throw new BenchConfigError(`${source}:${i + 1}: '${key}' is not an option name`);
    current.options.push({ key, value, line: i + 1 });
  }
  return sections;
}
