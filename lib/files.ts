// Files the command line reads (job files) and writes (reports), checked before a device
// is opened: a careless path must get a clear refusal, never a hang (a FIFO opened for
// reading blocks until a writer appears), an endless read (/dev/zero), a report written
// over the disk image under test, or a report lost after a long run because its directory
// was not writable.
import * as fs from 'fs';
import * as path from 'path';
import { PhyrError } from './errors';

/** A path the command line refused; `code` is the caller's (e.g. PHYR_BENCH_BAD_JOB_FILE). */
export class CliPathError extends PhyrError {
  /** The path as the user gave it. */
  readonly path: string;
  constructor(code: string, file: string, message: string) {
    super(code, message);
    this.path = file;
  }
}

/** What kind of file a stat describes, for messages ("a FIFO", "a directory"). */
export function fileKind(st: fs.Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

// procfs and sysfs files are kernel interfaces: some are endless, some (/proc/self/mem)
// are the process's own memory. No job file or report belongs there.
function kernelInterface(real: string): string | undefined {
  for (const root of ['/proc', '/sys', '/dev/fd']) if (real === root || real.startsWith(`${root}/`)) return root;
  return undefined;
}

// /dev holds device nodes (a new "report" there is a stray file where a disk's node could
// appear); /dev/shm is an ordinary tmpfs and /dev/null is accepted on its own.
function inDevDir(real: string): boolean {
  return (real === '/dev' || real.startsWith('/dev/')) && !(real === '/dev/shm' || real.startsWith('/dev/shm/'));
}

function realOrResolved(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT': return 'it does not exist';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EROFS': return 'the file system is read-only';
    case 'ENOTDIR': return 'a component of the path is not a directory';
    case 'ELOOP': return 'too many symbolic links';
    case 'ENAMETOOLONG': return 'the name is too long';
    case 'EISDIR': return 'it is a directory';
    case 'ETXTBSY': return 'it is a running executable';
    case 'EIO': return 'the read failed with an IO error';
    default: return err.code ? `${err.code}: ${err.message}` : String(err.message ?? e);
  }
}

/** The largest job file `phyr bench` reads: 1 MiB (fio job files are a few KiB). */
export const JOB_FILE_MAX_BYTES = 1 << 20;

/**
 * Reads a text file that must be a regular file of at most `maxBytes`: opened without
 * blocking (O_NONBLOCK: a FIFO does not wait for a writer), checked with fstat on the
 * open descriptor (no race with a rename), read at most `maxBytes + 1` bytes (procfs
 * files report size 0). Throws CliPathError(code) naming the file and the reason.
 */
export function readBoundedTextFile(file: string, what: string, code: string, maxBytes = JOB_FILE_MAX_BYTES): string {
  const refuse = (why: string): never => {
    throw new CliPathError(code, file, `${what} '${file}': ${why}`);
  };
  const root = kernelInterface(realOrResolved(file));
  if (root) refuse(`is under ${root}, a kernel interface, not a ${what}`);
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
  } catch (e) {
    return refuse(`cannot be opened: ${errnoText(e)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) refuse(`is ${fileKind(st)}; a ${what} must be a regular file`);
    if (st.size > maxBytes) refuse(`is ${st.size} bytes; a ${what} may be at most ${maxBytes} bytes (${maxBytes / 1024} KiB)`);
    const buf = Buffer.alloc(maxBytes + 1);
    let got = 0;
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(fd, buf, got, buf.length - got, null);
      } catch (e) {
        return refuse(`cannot be read: ${errnoText(e)}`);
      }
      if (n === 0) break;
      got += n;
      if (got > maxBytes) refuse(`is larger than ${maxBytes} bytes (${maxBytes / 1024} KiB), the most a ${what} may hold`);
    }
    const bytes = buf.subarray(0, got);
    if (bytes.includes(0)) refuse(`is not a text file (it contains NUL bytes)`);
    return bytes.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/** A file an output must not overwrite (the disk image under test, a job file). */
export interface ProtectedFile {
  path: string;
  /** What it is, for the message: "the disk image under test (emu backend=file:...)". */
  what: string;
}

function sameFile(a: string, st: fs.Stats, other: string): boolean {
  try {
    const o = fs.statSync(other);
    return o.dev === st.dev && o.ino === st.ino;
  } catch {
    return path.resolve(a) === path.resolve(other);
  }
}

/**
 * Checks that `file` can take a report, before anything runs: an existing regular file
 * this process may write (opened for append, nothing written), or /dev/null, or a new
 * file in a writable directory (with `createDirs`, in a directory that can be created
 * under a writable one). Refuses directories, devices, FIFOs, sockets, kernel interfaces
 * and every file in `protect`. Throws CliPathError(code) saying what is wrong.
 */
export function checkOutputFile(file: string, option: string, code: string, protect: ProtectedFile[] = [], createDirs = false): void {
  const refuse = (why: string): never => {
    throw new CliPathError(code, file, `${option} '${file}': ${why}`);
  };
  if (file === '') refuse('an empty path; give a file name');
  const resolved = path.resolve(file);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(resolved);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') refuse(`cannot be used: ${errnoText(e)}`);
  }
  const real = realOrResolved(resolved);
  const root = kernelInterface(real);
  if (root) refuse(`is under ${root}, a kernel interface; give a regular file for the report`);
  for (const p of protect) {
    if (st ? sameFile(resolved, st, p.path) : path.resolve(p.path) === resolved) refuse(`is ${p.what}; the report would overwrite it: give another file`);
  }
  if (st) {
    if (st.isCharacterDevice() && real === '/dev/null') return;
    if (st.isDirectory()) refuse('is a directory; give a file name for the report');
    if (st.isBlockDevice()) refuse('is a block device; a report written there would overwrite the disk');
    if (!st.isFile()) refuse(`is ${fileKind(st)}, not a regular file (only /dev/null is accepted besides regular files)`);
    if (inDevDir(real)) refuse('is under /dev, the device nodes; give a regular file elsewhere');
    let fd: number;
    try {
      fd = fs.openSync(resolved, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY);
    } catch (e) {
      return refuse(`is not writable: ${errnoText(e)}`);
    }
    fs.closeSync(fd);
    return;
  }
  // A new file: its directory (or, with createDirs, the nearest existing ancestor) must be
  // a directory this process may create files in.
  let dir = path.dirname(resolved);
  for (;;) {
    let ds: fs.Stats | undefined;
    try {
      ds = fs.statSync(dir);
    } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      if (c === 'ENOENT' && createDirs && path.dirname(dir) !== dir) {
        dir = path.dirname(dir);
        continue;
      }
      if (c === 'ENOENT') refuse(`its directory ${dir} does not exist`);
      refuse(`its directory ${dir} cannot be used: ${errnoText(e)}`);
    }
    if (!ds!.isDirectory()) refuse(`${dir} is ${fileKind(ds!)}, not a directory`);
    const droot = kernelInterface(realOrResolved(dir));
    if (droot) refuse(`is under ${droot}, a kernel interface; give a regular file for the report`);
    if (inDevDir(realOrResolved(dir))) refuse('is under /dev, the device nodes; give a regular file elsewhere (or /dev/null)');
    try {
      fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    } catch (e) {
      refuse(`its directory ${dir} is not writable: ${errnoText(e)}`);
    }
    return;
  }
}

/** Refuses two report options naming the same file (the second would overwrite the first). */
export function checkDistinctOutputs(outputs: Array<{ option: string; file: string }>, code: string): void {
  for (let i = 0; i < outputs.length; i++) {
    for (let j = i + 1; j < outputs.length; j++) {
      if (path.resolve(outputs[i].file) === path.resolve(outputs[j].file) && realOrResolved(outputs[i].file) !== '/dev/null') {
        throw new CliPathError(code, outputs[j].file, `${outputs[i].option} and ${outputs[j].option} name the same file '${outputs[j].file}'; give each report its own file`);
      }
    }
  }
}

/** The files a target string uses as storage (the emulated controller's backend=file:PATH). */
export function targetFiles(target: string | undefined): ProtectedFile[] {
  if (!target || !target.startsWith('emu:')) return [];
  const m = /(?:^emu:|,)backend=file:([^,]+)/.exec(target);
  return m ? [{ path: m[1], what: `the disk image under test (backend=file:${m[1]})` }] : [];
}
