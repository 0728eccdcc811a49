// fio's steady-state options: steadystate (ss) names the criterion and its limit,
// steadystate_duration (ss_dur) the window, steadystate_ramp_time (ss_ramp) the wait
// before samples count (fio 3.33 options.c, HOWTO "Steady state"). The check itself runs in
// the runner's watch loop (steadystate.ts); a job with ss_dur=0 (the default) has none.
import { BenchOptionError } from './errors';
import type { JobSpec } from './job';
import { DEFAULT_STEADYSTATE, type SteadyStateCriterion, type SteadyStateSpec } from './steadystate';
import { parseBytes, parseTimeNs } from './units';

/** A job option row, the shape of the option table's (options.ts spreads these into it). */
export interface SteadyStateOption {
  name: string;
  aliases?: string[];
  scope: 'job';
  help: string;
  applyJob(job: JobSpec, value: string | undefined): void;
}

const CRITERIA: SteadyStateCriterion[] = ['iops', 'iops_slope', 'bw', 'bw_slope'];
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function need(option: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new BenchOptionError(option, '', 'a value is required');
  return value;
}

function withSpec(j: JobSpec, change: Partial<SteadyStateSpec>): void {
  j.steadystate = { ...(j.steadystate ?? DEFAULT_STEADYSTATE), ...change };
}

/** Parses `CRITERION:LIMIT` (fio: `iops:10%`, `bw_slope:1m`, `iops:2000`). */
export function parseSteadyState(option: string, value: string, kbBase: JobSpec['kbBase']): Pick<SteadyStateSpec, 'criterion' | 'limit' | 'percent'> {
  const colon = value.indexOf(':');
  const name = colon < 0 ? value : value.slice(0, colon);
  if (!(CRITERIA as string[]).includes(name)) throw new BenchOptionError(option, value, `unknown criterion '${name}': give ${CRITERIA.join(', ')} followed by :LIMIT, e.g. iops:10% or bw_slope:1m`);
  const criterion = name as SteadyStateCriterion;
  if (colon < 0 || value.slice(colon + 1).trim() === '') throw new BenchOptionError(option, value, `a limit is required after the criterion, e.g. ${criterion}:10% (percent of the mean) or ${criterion}:${criterion.startsWith('iops') ? '2000' : '100m'} (absolute)`);
  const limitText = value.slice(colon + 1).trim();
  if (limitText.endsWith('%')) {
    const num = limitText.slice(0, -1).trim();
    if (!NUMBER.test(num)) throw new BenchOptionError(option, value, `'${limitText}' is not a percentage; e.g. ${criterion}:10%`);
    return { criterion, limit: Number(num), percent: true };
  }
  if (criterion.startsWith('iops')) {
    if (!NUMBER.test(limitText)) throw new BenchOptionError(option, value, `'${limitText}' is not an IOPS limit; give a number (e.g. ${criterion}:2000) or a percentage (${criterion}:10%)`);
    return { criterion, limit: Number(limitText), percent: false };
  }
  // fio reads an absolute bandwidth limit as a size in bytes (per second), kb_base applying.
  return { criterion, limit: parseBytes(option, limitText, kbBase), percent: false };
}

/** The option table's rows for steady state (spread into OPTIONS). */
export const STEADYSTATE_OPTIONS: SteadyStateOption[] = [
  {
    name: 'steadystate', aliases: ['ss'], scope: 'job',
    help: 'end the job once it is in steady state: iops, bw (largest deviation from the window\'s mean) or iops_slope, bw_slope (least-squares slope), then :LIMIT as a percentage of the mean or absolute (default iops_slope:0.01%); needs steadystate_duration',
    applyJob: (j, v) => withSpec(j, parseSteadyState('steadystate', need('steadystate', v), j.kbBase)),
  },
  {
    name: 'steadystate_duration', aliases: ['ss_dur'], scope: 'job',
    help: 'the steady-state window: this many 1-second samples must meet the criterion (whole seconds unless a unit is given; 0 = no steady-state check)',
    applyJob: (j, v) => {
      const val = need('steadystate_duration', v);
      const ns = parseTimeNs('steadystate_duration', val, 's');
      // fio keeps whole seconds (it divides by 10^6 us); a fraction would silently shrink the window.
      if (ns % 1e9 !== 0) throw new BenchOptionError('steadystate_duration', val, 'the window counts 1-second samples: give whole seconds (e.g. 30 or 2m)');
      withSpec(j, { durationS: ns / 1e9 });
    },
  },
  {
    name: 'steadystate_ramp_time', aliases: ['ss_ramp'], scope: 'job',
    help: 'wait this long into the job before steady-state samples count (seconds unless a unit is given)',
    applyJob: (j, v) => withSpec(j, { rampNs: parseTimeNs('steadystate_ramp_time', need('steadystate_ramp_time', v), 's') }),
  },
];
