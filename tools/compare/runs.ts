// Reading the result files `phyr compare` compares: fio-shaped JSON documents written by
// `phyr bench --output-format=json` or by fio itself (json or json+). The parsed runs stay
// {file, document} pairs so that other readers (the plot page) can take the same list.
import * as fs from 'fs';
import { CompareUsageError } from './errors';

/** One job entry of a fio-shaped document, as far as compare reads it. */
export interface FioJobEntry {
  jobname: string;
  [key: string]: unknown;
}

/** A fio-shaped JSON document: a `jobs` array, plus whatever else the writer put in. */
export interface FioDocument {
  jobs: FioJobEntry[];
  [key: string]: unknown;
}

/** One input file and its parsed document. */
export interface Run {
  file: string;
  document: FioDocument;
}

/** Who wrote the document: phyr ("phyr version") or fio ("fio version"). */
export function writerOf(doc: FioDocument): string {
  const v = doc['phyr version'] ?? doc['fio version'];
  return typeof v === 'string' ? v : 'unknown writer';
}

// fio prints notes ("note: both iodepth >= 1 and synchronous I/O engine ...") and, with
// --output-format=normal,json, the normal report before the JSON document on stdout: the
// document starts at the first line that opens an object.
function jsonPart(text: string): string {
  if (text.trimStart().startsWith('{')) return text;
  const m = /^\{/m.exec(text);
  return m ? text.slice(m.index) : text;
}

/** Parses one result document's text; `file` names it in errors. */
export function parseRun(file: string, text: string): Run {
  let doc: unknown;
  try {
    doc = JSON.parse(jsonPart(text));
  } catch (e) {
    throw new CompareUsageError(`${file}: not a JSON document (${(e as Error).message}); give files written by \`phyr bench --output-format=json\` or \`fio --output-format=json\``);
  }
  const jobs = (doc as { jobs?: unknown } | null)?.jobs;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(jobs)) {
    throw new CompareUsageError(`${file}: no "jobs" array, so not a fio-shaped result; give files written by \`phyr bench --output-format=json\` or \`fio --output-format=json\``);
  }
  jobs.forEach((j: unknown, i) => {
    if (typeof j !== 'object' || j === null || typeof (j as { jobname?: unknown }).jobname !== 'string') {
      throw new CompareUsageError(`${file}: jobs[${i}] has no "jobname"; give files written by \`phyr bench --output-format=json\` or \`fio --output-format=json\``);
    }
  });
  return { file, document: doc as FioDocument };
}

/** Reads and parses each file, in order (the first is the baseline). */
export function loadRuns(files: string[]): Run[] {
  return files.map((file) => {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new CompareUsageError(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); name an existing result file`);
    }
    return parseRun(file, text);
  });
}
