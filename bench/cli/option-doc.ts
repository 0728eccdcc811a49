// docs/BENCH.md's per-option table, generated from the option tables themselves (one
// source of truth): every option phyr knows with what it does with it. A unit test keeps
// the doc equal to this; `node dist/bench/cli/option-doc.js --write docs/BENCH.md` updates it.
import * as fs from 'fs';
import { DEFAULT_ONLY } from './fio-defaults';
import { KERNEL_STACK_OPTIONS } from './kernel-stack';
import { OPTIONS, UNSUPPORTED, type BenchOption } from './options';

/** The markers around the generated table in docs/BENCH.md. */
export const OPTION_TABLE_BEGIN = '<!-- option table: generated from bench/cli by option-doc.ts; do not edit by hand -->';
export const OPTION_TABLE_END = '<!-- end of option table -->';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The table's rows, sorted by option name. */
export function optionTableRows(): Array<{ name: string; treatment: string; what: string }> {
  const rows: Array<{ name: string; treatment: string; what: string }> = [];
  const named = (o: BenchOption) => `\`${o.name}\`${o.aliases?.length ? ` (${o.aliases.map((a) => `\`${a}\``).join(', ')})` : ''}`;
  for (const o of OPTIONS) rows.push({ name: named(o), treatment: o.scope === 'run' ? 'supported (command line)' : 'supported', what: o.help });
  for (const o of KERNEL_STACK_OPTIONS) rows.push({ name: named(o), treatment: 'replaced, with a notice', what: o.help });
  for (const [name, why] of Object.entries(UNSUPPORTED)) {
    const d = DEFAULT_ONLY[name];
    rows.push(d
      ? { name: `\`${name}\``, treatment: `fio's default only (\`${name}=${d.shown}\`)`, what: `the default is what phyr does; other values are refused: ${why}` }
      : { name: `\`${name}\``, treatment: 'refused', what: why });
  }
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

/** The generated block, markers included. */
export function optionTableMarkdown(): string {
  const rows = optionTableRows();
  const count = (t: string) => rows.filter((r) => r.treatment.startsWith(t)).length;
  return [
    OPTION_TABLE_BEGIN,
    `${rows.length} options: ${count('supported')} supported, ${count('replaced')} replaced with a notice, ${count('fio\'s default')} accepted at fio's default only, ${count('refused')} refused with the reason.`,
    '',
    '| option | phyr | what phyr does |',
    '|---|---|---|',
    ...rows.map((r) => `| ${r.name} | ${cell(r.treatment)} | ${cell(r.what)} |`),
    OPTION_TABLE_END,
  ].join('\n');
}

/** Replaces the generated block in a document's text. */
export function withOptionTable(doc: string): string {
  const a = doc.indexOf(OPTION_TABLE_BEGIN);
  const b = doc.indexOf(OPTION_TABLE_END);
  if (a < 0 || b < a) throw new Error(`the document has no option-table markers (${OPTION_TABLE_BEGIN} ... ${OPTION_TABLE_END})`);
  return doc.slice(0, a) + optionTableMarkdown() + doc.slice(b + OPTION_TABLE_END.length);
}

if (require.main === module) {
  const i = process.argv.indexOf('--write');
  if (i < 0 || !process.argv[i + 1]) process.stdout.write(`${optionTableMarkdown()}\n`);
  else fs.writeFileSync(process.argv[i + 1], withOptionTable(fs.readFileSync(process.argv[i + 1], 'utf8')));
}
