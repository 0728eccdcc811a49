// Kernel modules for the testbed: which ones it needs, their load order from modules.dep,
// and their contents uncompressed. Debian's 6.1 kernel ships plain `.ko` files; its 6.12
// package ships `.ko.xz` (CONFIG_MODULE_COMPRESS_XZ), and other builds use zstd or gzip.
// busybox's insmod hands the file to init_module() as it is, so the initramfs holds every
// module decompressed. gzip comes from node's zlib; node 20's zlib has neither xz nor
// zstd, so those go through the `xz` and `zstd` programs (Debian's xz-utils and zstd).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { PhyrError } from '../../lib/errors';

/** Modules /init loads before mounting the host root (dependencies are added). */
export const ROOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p'];
/** Modules the per-run script loads from the host root (modprobe) to bind controllers. */
export const GUEST_MODULES = ['vfio_pci', 'nvme'];

/** A module file's name without directory, `.ko` or compression suffix, `-` as `_`. */
export const moduleName = (p: string): string => path.basename(p).replace(/\.ko(\.[a-z0-9]+)?$/, '').replace(/-/g, '_');

/** The name the module has in the initramfs: its file name with the compression suffix dropped. */
export const uncompressedName = (p: string): string => path.basename(p).replace(/\.ko\.[a-z0-9]+$/, '.ko');

/** Parses modules.dep into module path -> dependency paths. */
export function parseModulesDep(text: string): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    deps.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim().split(/\s+/).filter(Boolean));
  }
  return deps;
}

/** Names of the modules built into the kernel (modules.builtin), empty when the list is absent. */
export function readBuiltin(modulesDir: string): Set<string> {
  try {
    return new Set(fs.readFileSync(path.join(modulesDir, 'modules.builtin'), 'utf8').split('\n').filter(Boolean).map(moduleName));
  } catch {
    return new Set();
  }
}

/**
 * The module files to load for `wanted`, dependencies first. A wanted module absent from
 * modules.dep is assumed built in (listed in modules.builtin) or reported.
 */
export function moduleLoadOrder(deps: Map<string, string[]>, wanted: string[], builtin: Set<string> = new Set()): string[] {
  const byName = new Map<string, string>();
  for (const p of deps.keys()) byName.set(moduleName(p), p);
  const order: string[] = [];
  const visit = (p: string, seen: Set<string>): void => {
    if (order.includes(p)) return;
    if (seen.has(p)) throw new PhyrError('PHYR_VM_MODULES', `modules.dep has a dependency cycle through ${p}`);
    seen.add(p);
    for (const d of deps.get(p) ?? []) visit(d, seen);
    order.push(p);
  };
  for (const w of wanted) {
    const p = byName.get(w.replace(/-/g, '_'));
    if (p) visit(p, new Set());
    else if (!builtin.has(w.replace(/-/g, '_'))) {
      throw new PhyrError('PHYR_VM_MODULES', `kernel module ${w} is neither in modules.dep nor built in: reinstall linux-image-amd64`);
    }
  }
  return order;
}

/** How a module file is compressed, from its name. */
export type ModuleCompression = 'none' | 'gzip' | 'xz' | 'zstd';

/** The compression of module file `p`, or throws for a suffix the testbed does not know. */
export function moduleCompression(p: string): ModuleCompression {
  if (p.endsWith('.ko')) return 'none';
  if (p.endsWith('.ko.gz')) return 'gzip';
  if (p.endsWith('.ko.xz')) return 'xz';
  if (p.endsWith('.ko.zst')) return 'zstd';
  throw new PhyrError('PHYR_VM_MODULES', `kernel module ${p} has an unknown suffix: the testbed loads .ko, .ko.gz, .ko.xz and .ko.zst`);
}

/** The program and Debian package that decompress each format node cannot. */
export const DECOMPRESSORS: Record<'xz' | 'zstd', { program: string; pkg: string }> = {
  xz: { program: 'xz', pkg: 'xz-utils' },
  zstd: { program: 'zstd', pkg: 'zstd' },
};

/** Why modules compressed as `formats` cannot be decompressed here, or undefined when they can. */
export function missingDecompressors(formats: Iterable<ModuleCompression>): string | undefined {
  const missing: string[] = [];
  for (const f of new Set(formats)) {
    if (f !== 'xz' && f !== 'zstd') continue;
    const { program, pkg } = DECOMPRESSORS[f];
    if (spawnSync(program, ['--version'], { stdio: 'ignore' }).status !== 0) missing.push(`${program} (package ${pkg})`);
  }
  return missing.length ? `its modules are ${[...new Set(formats)].filter((f) => f !== 'none').join('/')}-compressed and ${missing.join(', ')} is missing` : undefined;
}

// An ELF file starts with 7Fh 'E' 'L' 'F' (a module is an ELF relocatable object).
const isElf = (b: Buffer): boolean => b.length >= 4 && b.readUInt32BE(0) === 0x7f454c46;

/** The uncompressed contents of module file `file`, checked to be an ELF object. */
export function readModule(file: string): Buffer {
  const kind = moduleCompression(file);
  const raw = fs.readFileSync(file);
  let data: Buffer;
  if (kind === 'none') data = raw;
  else if (kind === 'gzip') data = zlib.gunzipSync(raw);
  else {
    const { program, pkg } = DECOMPRESSORS[kind];
    const r = spawnSync(program, ['-dc'], { input: raw, maxBuffer: 256 * 2 ** 20 });
    if (r.error) throw new PhyrError('PHYR_VM_MODULES', `cannot decompress ${file}: ${program} did not run (${r.error.message}); install it with \`apt-get install -y ${pkg}\``);
    if (r.status !== 0) throw new PhyrError('PHYR_VM_MODULES', `cannot decompress ${file}: ${program} -dc exited ${r.status}: ${r.stderr.toString().trim()}`);
    data = r.stdout;
  }
  if (!isElf(data)) throw new PhyrError('PHYR_VM_MODULES', `kernel module ${file} is not an ELF object${kind === 'none' ? '' : ` once ${kind}-decompressed`}: reinstall the kernel package`);
  return data;
}
