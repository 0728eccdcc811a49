// The properties QEMU's `nvme` device takes, as this QEMU reports them
// (`qemu-system-x86_64 -device nvme,help`): `--nvme` passes any of them through, and refuses
// a name QEMU does not know with QEMU's own list. The list differs between QEMU versions, so
// it is asked for, never written down; the answer is cached per QEMU binary (path, size,
// mtime) in the testbed's work directory, because asking starts QEMU (~0.1 s).
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { PhyrError } from '../../lib/errors';

/** Property names from `-device DEVICE,help` output ("  name=<type>  - text" lines). */
export function parseDeviceHelp(text: string): string[] {
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s+([A-Za-z0-9_.-]+)=</.exec(line);
    if (m) names.push(m[1]);
  }
  return names;
}

const memo = new Map<string, string[]>();

/** The `nvme` device's property names for `qemu`, from the cache under `cacheDir` or from QEMU. */
export function qemuNvmeProperties(qemu: string, cacheDir: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(qemu);
  } catch (err) {
    throw new PhyrError('PHYR_VM_PREREQ', `cannot ask ${qemu} for its nvme properties: ${(err as Error).message}`);
  }
  const key = crypto.createHash('sha256').update(`${path.resolve(qemu)}:${st.size}:${st.mtimeMs}`).digest('hex').slice(0, 12);
  const hit = memo.get(key);
  if (hit) return hit;
  const file = path.join(cacheDir, `qemu-nvme-properties-${key}.json`);
  try {
    const cached = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (Array.isArray(cached) && cached.length && cached.every((n) => typeof n === 'string')) {
      memo.set(key, cached as string[]);
      return cached as string[];
    }
  } catch {
    /* not cached yet */
  }
  const r = spawnSync(qemu, ['-device', 'nvme,help'], { encoding: 'utf8', timeout: 30_000 });
  const names = parseDeviceHelp(`${r.stdout ?? ''}`);
  if (r.status !== 0 || !names.length) {
    throw new PhyrError('PHYR_VM_PREREQ', `${qemu} -device nvme,help gave no property list (exit ${r.status}): ${(r.stderr ?? '').trim() || (r.error?.message ?? '')}`);
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(names));
  fs.renameSync(tmp, file);
  memo.set(key, names);
  return names;
}
