#!/usr/bin/env node
// Lists the native sources, so that each room adds files without editing binding.gyp or
// the native test Makefile. Files ending in _napi.cc are Node glue: they go into the addon
// only. Every other .cc is core code, built into the addon and into the native tests.
'use strict';
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const ROOMS = ['addon', 'emu/native', 'drivers/nvme/native', 'bench/native'];

function walk(dir, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.name.endsWith('.cc')) out.push(path.relative(ROOT, full));
  }
  return out;
}

// A room that has no sources yet may not exist in a fresh clone.
const all = ROOMS.filter((room) => fs.existsSync(path.join(ROOT, room))).flatMap((room) => walk(path.join(ROOT, room), []));
const mode = process.argv[2];
const pick = mode === '--core' ? all.filter((f) => !f.endsWith('_napi.cc')) : all;
process.stdout.write(pick.join(mode === '--gyp' ? ' ' : '\n') + '\n');
