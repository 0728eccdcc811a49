// `phyr fio-engine`: the absolute path of phyr's fio ioengine (bench/fio-engine/, built by
// `npm install` beside the addon), for fio --ioengine=external:$(phyr fio-engine).
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'node:util';
import { PhyrError } from '../../lib/errors';

export const summary = "print the path of phyr's fio ioengine (fio --ioengine=external:$(phyr fio-engine) --phyr_socket=PATH)";

/** The engine's file, relative to the package root (binding.gyp's phyr_fio target). */
export const ENGINE_FILE = path.join('build', 'Release', 'phyr_fio.node');

const HELP = `usage: phyr fio-engine

Prints the absolute path of phyr's fio ioengine, a shared object built with the addon. Use it
against a running \`phyr serve TARGET --socket PATH\`:

  fio --ioengine=external:$(phyr fio-engine) --phyr_socket=PATH [--phyr_nsid=N] \\
      --thread=1 --name=job --rw=randread --bs=4k --iodepth=32 ...

Each fio job thread attaches as its own client and gets its own queue pair; fio's IO buffers
are memory the daemon mapped (no copies). read, write, trim (Dataset Management), fsync /
fdatasync (Flush) and verify work. The engine's options: fio --enghelp=$(phyr fio-engine).

options:
  -h, --help    this help`;

/** The engine's absolute path (a PHYR_NO_FIO_ENGINE error naming the fix when it was not built). */
export function fioEnginePath(from: string = __dirname): string {
  // Works from the sources (tools/commands/) and from the compiled tree (dist/tools/commands/).
  for (let dir = from, i = 0; i < 5; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, ENGINE_FILE);
    if (fs.existsSync(candidate)) return path.resolve(candidate);
  }
  throw new PhyrError('PHYR_NO_FIO_ENGINE', `phyr's fio engine is not built (${ENGINE_FILE} is missing): run \`npm install\` (or \`npx node-gyp rebuild\`) in the phyr package; it needs python3, make and g++`);
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, strict: true, options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  console.log(fioEnginePath());
  return 0;
}
