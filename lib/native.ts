// Loads the single native addon. Each room declares the slice of it that it uses as its own
// interface and reads it through `addonRoom`, so no file lists every native export.
import * as fs from 'fs';
import * as path from 'path';
import { PhyrError } from './errors';

let cached: Record<string, unknown> | undefined;

function findAddon(): string {
  // Works from the sources (lib/) and from the compiled tree (dist/lib/).
  for (let dir = __dirname, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'build', 'Release', 'phyr.node');
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new PhyrError(
    'PHYR_NO_ADDON',
    'the phyr native addon is not built (build/Release/phyr.node is missing): run `npm install` ' +
      '(or `npm run build:addon`) in the phyr package; it needs python3, make and g++',
  );
}

/** The whole addon module (loaded once). */
export function loadAddon(): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (!cached) cached = require(findAddon()) as Record<string, unknown>;
  return cached;
}

/** One room's exports of the addon, typed by the caller's interface. */
export function addonRoom<T>(name: string): T {
  const room = loadAddon()[name];
  if (room === undefined) {
    throw new PhyrError('PHYR_NO_ADDON', `the native addon has no '${name}' exports: rebuild it with \`npm run build:addon\``);
  }
  return room as T;
}
