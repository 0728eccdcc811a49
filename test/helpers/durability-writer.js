#!/usr/bin/env node
// The writer child of test/emu/durability-kill.test.ts: a plain node process using the
// built library (dist/), as an application would. It writes blocks that carry a header
// (see block-header.js) to an image on the embedded controller's file backend, keeps a
// few writes and a flush now and then in flight, and reports on stdout, one line each:
//   R                     ready (the controller is open)
//   A <lba> <blocks> <seq> a write was acknowledged (all its blocks carry <seq>)
//   f <n>                 flush n was submitted
//   F <n>                 flush n completed
// stdout is a pipe, which node writes synchronously on Linux: a line is in the pipe before
// the next IO is issued, so the parent knows every acknowledgement even after SIGKILL.
//   node durability-writer.js LIB IMAGE SIZE SEQBASE SEED
'use strict';
const { fillBlock, Rng } = require('./block-header');

async function main() {
  const [lib, image, size, seqBase, seed] = process.argv.slice(2);
  const phyr = require(lib);
  const ctrl = await phyr.open(`emu:backend=file:${image},size=${size}`, { timeoutMs: 5000 });
  const ns = ctrl.namespace(1);
  const blocksTotal = ns.blocks;
  const lbaSize = ns.lbaSize;
  const rng = new Rng(Number(seed));
  let seq = Number(seqBase);
  let flushes = 0;
  const depth = 8;
  process.stdout.write('R\n');
  // Writes to the same LBAs may be in flight at once; an LBA range is owned by one write at
  // a time so "the newest acknowledged version" is well defined per block.
  const busy = new Uint8Array(blocksTotal);
  const writer = async () => {
    for (;;) {
      const blocks = 1 + rng.below(8);
      let lba = rng.below(blocksTotal - blocks + 1);
      let tries = 0;
      while (busy.subarray(lba, lba + blocks).some((b) => b) && tries++ < 16) lba = rng.below(blocksTotal - blocks + 1);
      if (tries > 16) continue;
      busy.fill(1, lba, lba + blocks);
      const s = ++seq;
      const buf = Buffer.alloc(blocks * lbaSize);
      for (let i = 0; i < blocks; i++) fillBlock(buf.subarray(i * lbaSize, (i + 1) * lbaSize), lba + i, s);
      await ns.write(lba, buf);
      busy.fill(0, lba, lba + blocks);
      process.stdout.write(`A ${lba} ${blocks} ${s}\n`);
    }
  };
  const flusher = async () => {
    for (;;) {
      await new Promise((r) => setTimeout(r, 5 + rng.below(20)));
      const n = ++flushes;
      process.stdout.write(`f ${n}\n`);
      await ns.flush();
      process.stdout.write(`F ${n}\n`);
    }
  };
  await Promise.all([...Array.from({ length: depth }, writer), flusher()]);
}

main().catch((e) => {
  process.stderr.write(`writer failed: ${e && e.stack ? e.stack : e}\n`);
  process.exit(3);
});
