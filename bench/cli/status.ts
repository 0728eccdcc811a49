// The live status line (fio's "Jobs: 1 (f=1): [r(1)][45.0%][r=...][r=... IOPS][eta ...]")
// and the periodic status dump. Progress comes from the native loops' shared counters.
import { scaleBytes, scaleNumber } from './report';

/** A snapshot of progress across the running jobs. */
export interface StatusSnapshot {
  running: number;
  /** fio's per-job state letters: r, w, R, W, m (mixed), V (verifying), _ (done). */
  states: string;
  percent: number;
  readBytesPerSec: number;
  writeBytesPerSec: number;
  readIops: number;
  writeIops: number;
  etaSeconds: number;
}

function eta(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}h:${two(m)}m:${two(r)}s` : `${two(m)}m:${two(r)}s`;
}

/** fio's one-line status. */
export function formatStatusLine(s: StatusSnapshot): string {
  const bw: string[] = [];
  const io: string[] = [];
  if (s.readBytesPerSec || !s.writeBytesPerSec) {
    bw.push(`r=${scaleBytes(s.readBytesPerSec, 1024)}/s`);
    io.push(`r=${scaleNumber(s.readIops)}`);
  }
  if (s.writeBytesPerSec) {
    bw.push(`w=${scaleBytes(s.writeBytesPerSec, 1024)}/s`);
    io.push(`w=${scaleNumber(s.writeIops)}`);
  }
  return `Jobs: ${s.running} (f=${s.running}): [${s.states}][${s.percent.toFixed(1)}%][${bw.join(',')}][${io.join(',')} IOPS][eta ${eta(s.etaSeconds)}]`;
}

/** Whether to draw the live line: --eta=always, or auto on a TTY. */
export function wantLiveLine(mode: 'auto' | 'always' | 'never', isTty: boolean): boolean {
  return mode === 'always' || (mode === 'auto' && isTty);
}
