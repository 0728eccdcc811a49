// fio's write_iolog for phyr jobs: the native loop stores each submitted IO (namespace
// byte offset, +bytes read / -bytes written) in an array sized before the run, and the
// log is written afterwards in fio's iolog version 2 format (no timestamps: version 3's
// per-IO times are not recorded), which fio's read_iolog replays. The file field names
// the namespace (`nsN`): there is no file.
import * as fs from 'fs';
import { BenchConfigError } from './errors';
import type { PlannedJob } from './plan';

/** The most IOs one log holds (16 bytes each: 64 MiB). */
export const IOLOG_MAX_IOS = 4 << 20;

/** The log array for a planned job: room for every IO it can submit, main phase and read-back. */
export function ioLogFor(plan: PlannedJob, name: string): Float64Array {
  const sizes = [plan.readPercent > 0 ? plan.readBs.min : Infinity, plan.readPercent < 100 ? plan.writeBs.min : Infinity];
  const main = Math.ceil(plan.ioBytes / Math.min(...sizes));
  const readBack = plan.verify && plan.doVerify ? Math.ceil(plan.regionBytes / plan.slotBytes) : 0;
  const ios = main + readBack + 1;
  if (ios > IOLOG_MAX_IOS) throw new BenchConfigError(`job '${name}': write_iolog: the job may submit ${ios} IOs; a log holds at most ${IOLOG_MAX_IOS}: give a smaller size`);
  return new Float64Array(2 * ios);
}

/** Writes a job's log in fio's iolog version 2 format. */
export function writeIoLog(file: string, nsid: number, log: Float64Array, count: number): void {
  const cap = log.length / 2;
  if (count > cap) throw new Error(`write_iolog ${file}: the job submitted ${count} IOs, more than the ${cap} its log was sized for`);
  const dev = `ns${nsid}`;
  const lines = ['fio version 2 iolog', `${dev} add`, `${dev} open`];
  for (let i = 0; i < count; i++) {
    const bytes = log[2 * i + 1];
    lines.push(`${dev} ${bytes < 0 ? 'write' : 'read'} ${log[2 * i]} ${Math.abs(bytes)}`);
  }
  lines.push(`${dev} close`, '');
  fs.writeFileSync(file, lines.join('\n'));
}
