// connect()'s first step: the Unix socket of a `phyr serve`. A failure names what is at the
// path (nothing, something that is not a socket, a socket this user may not open, a socket
// nobody listens on) and how to start a daemon there, as one typed error.
import * as fs from 'fs';
import * as os from 'os';
import { ChannelError, connectSocket } from '../lib/channel';
import { PhyrError } from '../lib/errors';

/** connect() found no daemon to talk to at the socket path. */
export class ServeConnectError extends PhyrError {
  constructor(
    message: string,
    /** The socket path that was tried. */
    readonly socketPath: string,
    /** What is at the path: 'missing', 'not-socket', 'permission', 'no-daemon' or 'failed'. */
    readonly reason: 'missing' | 'not-socket' | 'permission' | 'no-daemon' | 'failed',
  ) {
    super('PHYR_SERVE_CONNECT', message);
  }
}

function hint(path: string): string {
  return `start one with \`phyr serve emu --socket ${path}\` (or \`phyr serve <PCI address> --socket ${path}\`), or pass the --socket of the running daemon`;
}

/** Connects to the daemon's socket; its descriptor, or a ServeConnectError. */
export function connectServeSocket(path: string): number {
  try {
    return connectSocket(path);
  } catch (e) {
    throw describeFailure(path, e);
  }
}

function describeFailure(path: string, e: unknown): ServeConnectError {
  const errno = e instanceof ChannelError ? e.errno : undefined;
  const detail = (e as Error)?.message ?? String(e);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(path);
  } catch (se) {
    const code = (se as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return new ServeConnectError(`connect: nothing exists at ${path} (no daemon made a socket there); ${hint(path)}`, path, 'missing');
    if (code === 'EACCES') return new ServeConnectError(`connect: permission denied looking up ${path} (a directory on the way is closed to this user); run as a user who may, or ${hint(path)}`, path, 'permission');
  }
  if (st && !st.isSocket()) {
    const what = st.isDirectory() ? 'a directory' : st.isFile() ? 'a regular file' : 'not a socket';
    return new ServeConnectError(`connect: ${path} is ${what}, not the socket of a phyr serve; ${hint(path)}`, path, 'not-socket');
  }
  if (errno === os.constants.errno.EACCES || errno === os.constants.errno.EPERM) {
    return new ServeConnectError(`connect: permission denied on the socket ${path} (the daemon allows its owner, or its --group); run as that user or in that group, or ${hint(path)}`, path, 'permission');
  }
  if (errno === os.constants.errno.ECONNREFUSED) {
    return new ServeConnectError(`connect: ${path} is a socket but no daemon is listening on it (the daemon exited or was killed and left it behind); remove it and ${hint(path)}`, path, 'no-daemon');
  }
  if (errno === os.constants.errno.ENOENT) return new ServeConnectError(`connect: nothing exists at ${path}; ${hint(path)}`, path, 'missing');
  return new ServeConnectError(`connect: could not connect to ${path} (${detail}); ${hint(path)}`, path, 'failed');
}
