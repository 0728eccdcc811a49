// fio's value keywords and the arithmetic it does with them, as fio 3.33 does in job files:
// `$ncpus`, `$mb_memory` and `$pagesize` are replaced by the host's figures, and a value
// that then starts with `(` is evaluated as integer arithmetic (+ - * / and parentheses,
// division truncating, as fio's `bc` call does with scale 0). Suffixes are not allowed
// inside an expression (fio's evaluator rejects `($ncpus*4k)` too); a value without a
// keyword is never evaluated (fio 3.33 rejects `(4+4)`), so phyr does not either.
import { BenchConfigError } from './errors';

/** The host figures fio's keywords stand for. */
export interface HostFacts {
  ncpus: number;
  /** Total memory in MiB. */
  mbMemory: number;
  pagesize: number;
}

const KEYWORDS = /\$(ncpus|mb_memory|pagesize)\b/g;

/** Replaces fio's keywords in a job-file value; evaluates it when it is an expression. */
export function expandKeywords(value: string, host: HostFacts, where: string): string {
  let found = false;
  const replaced = value.replace(KEYWORDS, (_m, k: string) => {
    found = true;
    return String(k === 'ncpus' ? host.ncpus : k === 'mb_memory' ? host.mbMemory : host.pagesize);
  });
  if (!found || !replaced.trimStart().startsWith('(')) return replaced;
  return String(evaluate(replaced, `${where}: '${value}'`));
}

/** Evaluates integer arithmetic: + - * / with parentheses and unary minus. */
export function evaluate(text: string, what: string): number {
  const tokens = text.match(/\d+|[-+*/()]|\S/g) ?? [];
  let i = 0;
  const fail = (why: string): never => {
    throw new BenchConfigError(`${what}: ${why} (fio evaluates integer + - * / and parentheses, without unit suffixes, when the value uses $ncpus, $mb_memory or $pagesize)`, 'PHYR_BENCH_BAD_OPTION');
  };
  const primary = (): number => {
    const t = tokens[i++];
    if (t === undefined) return fail('the expression ends too early');
    if (t === '(') {
      const v = sum();
      const close = tokens[i++];
      if (close === undefined) fail('a parenthesis is not closed');
      if (close !== ')') fail(`'${close}' is not allowed in an expression`);
      return v;
    }
    if (t === '-') return -primary();
    if (t === '+') return primary();
    if (/^\d+$/.test(t)) return Number(t);
    return fail(`'${t}' is not allowed in an expression`);
  };
  const product = (): number => {
    let v = primary();
    while (tokens[i] === '*' || tokens[i] === '/') {
      const op = tokens[i++];
      const r = primary();
      if (op === '/' && r === 0) fail('division by zero');
      v = op === '*' ? v * r : Math.trunc(v / r);
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (tokens[i] === '+' || tokens[i] === '-') v = tokens[i++] === '+' ? v + product() : v - product();
    return v;
  };
  const v = sum();
  if (i < tokens.length) fail(`'${tokens[i]}' is not allowed here`);
  if (!Number.isSafeInteger(v)) fail('the result is too large');
  return v;
}
