// A writer for the "newc" cpio format the kernel unpacks as an initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte ASCII header,
// the NUL-terminated name and the data, each padded to 4 bytes.

/** One archive member. */
export interface CpioEntry {
  name: string;
  /** File type and permission bits, e.g. 0o100755 for an executable, 0o40755 for a directory. */
  mode: number;
  data?: Buffer;
}

const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

/** A regular file. */
export const file = (name: string, data: Buffer, perm = 0o644): CpioEntry => ({ name, mode: S_IFREG | perm, data });
/** A directory. */
export const dir = (name: string, perm = 0o755): CpioEntry => ({ name, mode: S_IFDIR | perm });
/** A symbolic link to `target`. */
export const symlink = (name: string, target: string): CpioEntry => ({ name, mode: S_IFLNK | 0o777, data: Buffer.from(target) });

const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);
const hex8 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

function member(ino: number, entry: CpioEntry): Buffer[] {
  const data = entry.data ?? Buffer.alloc(0);
  const name = Buffer.from(entry.name + '\0');
  const isDir = (entry.mode & 0o170000) === S_IFDIR;
  const fields = [ino, entry.mode, 0, 0, isDir ? 2 : 1, 0, data.length, 0, 0, 0, 0, name.length, 0];
  const header = Buffer.from('070701' + fields.map(hex8).join(''), 'ascii');
  return [header, name, pad4(header.length + name.length), data, pad4(data.length)];
}

/** The archive holding `entries` in order, closed by the trailer. */
export function cpioArchive(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((e, i) => parts.push(...member(i + 1, e)));
  parts.push(...member(0, { name: 'TRAILER!!!', mode: 0 }));
  return Buffer.concat(parts);
}
