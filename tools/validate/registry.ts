// The case registry: every case phyr validate can run, from the raw conformance cases
// (conformance/cases, run over raw queues) and from validate's own suites (run through the
// driver). Ids are unique; selection is by suite and by id pattern.
import { PhyrError } from '../../lib/errors';
import { SUITE_NAMES, isSuiteName } from './suites';
import type { ConformanceCase, SuiteName, ValidateCase } from './types';

/** Ids are dotted lower-case words: 'suite.group.rule'. */
const ID_SHAPE = /^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9_-]*)+$/;

/** Error for a malformed registry or selection. */
export class ValidateSelectionError extends PhyrError {
  constructor(message: string) {
    super('PHYR_VALIDATE_SELECTION', message);
  }
}

/** What to select from the registry. */
export interface Selection {
  /** Suites to run (all when empty or absent). */
  suites?: readonly SuiteName[];
  /** Comma-separated id patterns: '*' and '?' wildcards, or a dotted id prefix. */
  pattern?: string;
}

/**
 * Compiles one --case pattern. With wildcards it must match the whole id; without, it
 * matches the id itself or any id below it ('dptr.prp' selects 'dptr.prp.offset').
 */
export function compilePattern(pattern: string): (id: string) => boolean {
  const p = pattern.trim().toLowerCase();
  if (!p) throw new ValidateSelectionError("an empty --case pattern selects nothing: give an id, a prefix such as 'dptr.prp', or a glob such as '*.sgl.*'");
  if (/[*?]/.test(p)) {
    const source = p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    const re = new RegExp(`^${source}$`);
    return (id) => re.test(id);
  }
  return (id) => id === p || id.startsWith(`${p}.`);
}

/** The set of cases phyr validate knows. */
export class CaseRegistry {
  private readonly byId = new Map<string, ValidateCase>();

  /** Adds cases; raw conformance cases default to needing raw queues. */
  add(cases: readonly (ValidateCase | ConformanceCase)[]): this {
    for (const c of cases) {
      if (!ID_SHAPE.test(c.id)) throw new ValidateSelectionError(`case id '${c.id}' is malformed: use dotted lower-case words such as 'dptr.prp.offset'`);
      if (!isSuiteName(c.suite)) throw new ValidateSelectionError(`case '${c.id}' names suite '${String(c.suite)}'; suites are ${SUITE_NAMES.join(', ')}`);
      if (!c.purpose || !c.spec) throw new ValidateSelectionError(`case '${c.id}' needs a purpose and a spec section`);
      if (this.byId.has(c.id)) throw new ValidateSelectionError(`case id '${c.id}' is registered twice`);
      const vc = c as ValidateCase;
      this.byId.set(c.id, { ...vc, needs: vc.needs ?? 'raw', run: vc.run.bind(c) });
    }
    return this;
  }

  /** Number of registered cases. */
  get size(): number {
    return this.byId.size;
  }

  /** Every case in suite order, then in registration order. */
  all(): ValidateCase[] {
    const cases = [...this.byId.values()];
    return SUITE_NAMES.flatMap((s) => cases.filter((c) => c.suite === s));
  }

  /** One case by id. */
  get(id: string): ValidateCase | undefined {
    return this.byId.get(id);
  }

  /** The cases a selection names; throws when a pattern or suite names nothing. */
  select(selection: Selection = {}): ValidateCase[] {
    const suites = selection.suites?.length ? new Set(selection.suites) : undefined;
    let cases = this.all().filter((c) => !suites || suites.has(c.suite));
    if (selection.pattern !== undefined) {
      const patterns = selection.pattern.split(',').map((p) => ({ text: p.trim(), test: compilePattern(p) }));
      for (const p of patterns) {
        if (!cases.some((c) => p.test(c.id))) {
          throw new ValidateSelectionError(`--case '${p.text}' matches no case${suites ? ` in suite(s) ${[...suites].join(', ')}` : ''}: see \`phyr validate --list\``);
        }
      }
      cases = cases.filter((c) => patterns.some((p) => p.test(c.id)));
    }
    return cases;
  }
}

/** Parses a --suite value ('registers,admin') into suite names, rejecting unknown ones. */
export function parseSuites(value: string | undefined): SuiteName[] {
  if (value === undefined) return [];
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!names.length) throw new ValidateSelectionError(`--suite needs at least one suite name: ${SUITE_NAMES.join(', ')}`);
  for (const n of names) {
    if (!isSuiteName(n)) throw new ValidateSelectionError(`unknown suite '${n}': suites are ${SUITE_NAMES.join(', ')}`);
  }
  return [...new Set(names)] as SuiteName[];
}
