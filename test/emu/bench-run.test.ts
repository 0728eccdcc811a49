// phyr bench end to end on the embedded controller: the native loop on a driver queue
// pair, fio-shaped results, verify (clean and catching a corrupted block), clones and
// groups, and every bad input refused before any IO reaches the device.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseBenchArgs } from '../../bench/cli/config';
import { openBenchDevice, type OpenBenchDevice } from '../../bench/cli/device';
import { formatJson } from '../../bench/cli/report';
import { runJobs } from '../../bench/cli/runner';
import { run } from '../../tools/commands/bench';
import type { EmuFunction } from '../../emu';

const quiet = { isTty: false, write: () => undefined };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'phyr-bench-emu-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function withDevice<T>(target: string, args: string[], fn: (d: OpenBenchDevice, jobs: ReturnType<typeof parseBenchArgs>) => Promise<T>): Promise<T> {
  const cfg = parseBenchArgs([target, ...args]);
  const d = await openBenchDevice(cfg.target, cfg.jobs);
  try {
    return await fn(d, cfg);
  } finally {
    await d.close();
  }
}

function ioCommands(d: OpenBenchDevice): number {
  return (d.controller.fn as EmuFunction).stats().ioCommands;
}

t.test('randread on the null backend: native loop results in fio shape', async (t) => {
  await withDevice('emu:backend=null', ['--name=rr', '--rw=randread', '--iodepth=16', '--runtime=300ms', '--time_based'], async (d, cfg) => {
    const [r] = await runJobs(d, cfg.jobs, cfg.run, quiet);
    t.equal(r.error, 0, r.errorMessage ?? 'no error');
    t.ok(r.read.ios > 1000, `${r.read.ios} reads`);
    t.equal(r.write.ios, 0);
    t.equal(r.read.bytes, r.read.ios * 4096);
    t.equal(r.read.clat.count, r.read.ios);
    t.ok(r.runtimeNs >= 290e6 && r.runtimeNs < 5e9, `runtime ${r.runtimeNs}`);
    t.equal(r.phyr.dptr, 'prp');
    t.equal(r.phyr.prpCommands, r.read.ios);
    t.ok(r.depthHist[4] > 0, 'depth 16 reached');
    t.ok(ioCommands(d) >= r.read.ios, 'the device saw the IOs');
    const doc = JSON.parse(formatJson([r], () => [50, 99], { target: cfg.target, targetDescription: d.facts.description, startedAt: new Date(), iommuFaults: d.facts.iommuFaults(), version: 't' }, false));
    t.ok(doc.jobs[0].read.clat_ns.percentile['99.000000'] > 0);
    t.equal(doc.phyr.iommu_faults, 0);
    t.match(d.facts.description, /embedded emulated controller/);
  });
});

t.test('mixed sequential jobs, clones and group_reporting', async (t) => {
  await withDevice('emu:backend=null', ['--size=4m', '--name=mix', '--rw=rw', '--rwmixread=50', '--bs=8k', '--iodepth=4', '--numjobs=2', '--name=grp', '--rw=randwrite', '--numjobs=2', '--group_reporting', '--iodepth=2'], async (d, cfg) => {
    const res = await runJobs(d, cfg.jobs, cfg.run, quiet);
    t.same(res.map((r) => [r.name, r.jobs]), [['mix', 1], ['mix', 1], ['grp', 2]]);
    for (const r of res.slice(0, 2)) {
      t.equal(r.read.bytes + r.write.bytes, 4 << 20, 'each clone moves size bytes');
      t.ok(r.read.ios > 0 && r.write.ios > 0);
    }
    t.equal(res[2].write.bytes, 2 * (4 << 20));
  });
});

t.test('write with verify reads back clean; a read job verifies an earlier write', async (t) => {
  const file = path.join(tmp, 'verify.fio');
  fs.writeFileSync(file, '[global]\nsize=2m\nverify=crc32c\n[w]\nrw=randwrite\nbs=8k\niodepth=8\n[r]\nstonewall\nrw=randread\nbs=4k\niodepth=8\n');
  await withDevice('emu:backend=ram,size=64M', [file], async (d, cfg) => {
    const [w, r] = await runJobs(d, cfg.jobs, cfg.run, quiet);
    t.equal(w.error, 0, w.errorMessage ?? '');
    t.equal(w.write.bytes, 2 << 20);
    t.equal(w.read.bytes, 2 << 20, 'do_verify read everything back');
    t.equal(w.verifyChecked, 4096);
    t.equal(w.verifyErrors, 0);
    t.equal(r.groupId, 1);
    t.equal(r.verifyChecked, 4096);
    t.equal(r.verifyErrors, 0);
  });
});

t.test('--dptr=sgl: every command an SGL, even 4 KiB ones; --dptr=prp: none', async (t) => {
  await withDevice('emu:backend=null,sgl=on', ['--name=s', '--rw=randread', '--iodepth=8', '--size=1m', '--dptr=sgl', '--name=p', '--rw=randread', '--iodepth=8', '--size=1m', '--dptr=prp'], async (d, cfg) => {
    const [s, p] = await runJobs(d, cfg.jobs, cfg.run, quiet);
    t.equal(s.error, 0, s.errorMessage ?? 'no error');
    t.equal(s.phyr.dptr, 'sgl');
    t.equal(s.phyr.sglCommands, s.read.ios);
    t.equal(s.phyr.prpCommands, 0);
    t.equal(p.phyr.dptr, 'prp');
    t.equal(p.phyr.sglCommands, 0);
    t.equal(p.read.bytes, 1 << 20);
    t.equal(d.facts.iommuFaults(), 0);
  });
});

t.test('--mem=cmb: reads into and writes from the target\'s own controller memory buffer', async (t) => {
  await withDevice('emu:backend=ram,cmb=4M', ['--name=w', '--rw=write', '--bs=16k', '--iodepth=8', '--size=2m', '--mem=cmb', '--name=r', '--rw=randread', '--bs=4k', '--iodepth=16', '--size=2m', '--mem=cmb'], async (d, cfg) => {
    const before = (d.controller.fn as EmuFunction).stats();
    const [w, r] = await runJobs(d, cfg.jobs, cfg.run, quiet);
    t.equal(w.error, 0, w.errorMessage ?? 'no error');
    t.equal(r.error, 0, r.errorMessage ?? 'no error');
    t.equal(w.write.bytes, 2 << 20);
    t.equal(r.read.bytes, 2 << 20);
    t.ok(d.controller.cmb, 'the CMB was enabled');
    const after = (d.controller.fn as EmuFunction).stats();
    t.equal(after.errors - before.errors, 0, 'the device refused nothing (no Invalid Use of CMB)');
    t.equal(after.bytesWritten - before.bytesWritten, 2 << 20);
    t.equal(after.bytesRead - before.bytesRead, 2 << 20);
    t.match(w.phyr.dptr, /split|prp/, '16 KiB in the CMB needs no PRP list: two-page children');
    t.equal(d.facts.iommuFaults(), 0);
  });
});

t.test('--mem=p2p:emu: data moves to and from a peer controller\'s CMB in the same IOMMU domain', async (t) => {
  await withDevice('emu:backend=ram', ['--name=pw', '--rw=randwrite', '--iodepth=4', '--size=1m', '--mem=p2p:emu', '--name=pr', '--rw=read', '--bs=8k', '--iodepth=4', '--size=1m', '--mem=p2p:emu'], async (d, cfg) => {
    const [w, r] = await runJobs(d, cfg.jobs, cfg.run, quiet);
    t.equal(w.error, 0, w.errorMessage ?? 'no error');
    t.equal(r.error, 0, r.errorMessage ?? 'no error');
    t.equal(w.write.bytes + r.read.bytes, 2 << 20);
    t.equal(d.facts.iommuFaults(), 0, 'every peer address translated');
  });
});

t.test('verify catches a block the emulator corrupts on the way to host memory; verify_fatal stops', async (t) => {
  await withDevice('emu:backend=ram,size=64M', ['--size=1m', '--verify=crc32c', '--name=w', '--rw=write', '--bs=64k', '--iodepth=4', '--do_verify=0'], async (d, cfg) => {
    const [w] = await runJobs(d, cfg.jobs, cfg.run, quiet);
    t.equal(w.error, 0);
    // The stored data stays good; every read of LBA 777 delivers byte 300 of it inverted.
    const fn = d.controller.fn as EmuFunction;
    fn.inject('corrupt:lba=777:byte=300');
    const read = parseBenchArgs(['--size=1m', '--verify=crc32c', '--name=r', '--rw=read', '--iodepth=4']);
    const [r] = await runJobs(d, read.jobs, read.run, quiet);
    t.equal(r.error, 84, 'not fatal: the job ran to the end, and failed with EILSEQ as fio reports it');
    t.equal(r.read.bytes, 1 << 20);
    t.equal(r.verifyErrors, 1);
    t.equal(r.verifyFailures[0].lba, 777);
    t.equal(r.verifyFailures[0].reason, 'crc32c mismatch');
    t.equal(r.verifyFailures[0].found.lba, 777, 'the header itself arrived intact');
    t.equal(fn.stats().corruptedReads, 1, 'the device corrupted exactly one read');
    fn.inject('corrupt:lba=777:byte=0');
    const fatal = parseBenchArgs(['--size=1m', '--verify=crc32c', '--verify_fatal=1', '--name=f', '--rw=read', '--iodepth=1']);
    const [f] = await runJobs(d, fatal.jobs, fatal.run, quiet);
    t.equal(f.error, 84);
    t.match(f.errorMessage, /verify failed at LBA 777 .*verify_fatal stops the job/);
    t.ok(f.read.bytes <= 778 * 512 + 4096, 'stopped at the failure');
    fn.inject('clear');
    const clean = parseBenchArgs(['--size=1m', '--verify=crc32c', '--name=c', '--rw=read', '--iodepth=4']);
    const [c] = await runJobs(d, clean.jobs, clean.run, quiet);
    t.equal(c.verifyErrors, 0, 'after clear the same blocks verify clean: only the transfer was corrupted');
  });
});

t.test('the command reports a verify failure from a corrupt fault with LBA, expected and found header', async (t) => {
  const errors: string[] = [];
  const out: string[] = [];
  const origErr = console.error;
  const write = process.stdout.write.bind(process.stdout);
  console.error = (m: string) => void errors.push(String(m));
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await run(['emu:backend=ram,faults=corrupt:lba=40:byte=300', '--name=wv', '--rw=write', '--size=256k', '--verify=crc32c', '--eta=never']);
  } finally {
    console.error = origErr;
    process.stdout.write = write;
  }
  t.not(code, 0, 'a verify error makes the exit status non-zero');
  const text = out.join('') + errors.join('\n');
  t.match(text, /LBA 40/);
  t.match(text, /verify error : LBA 40: crc32c mismatch; expected header \{lba=40, .*\}, found \{magic=0x[0-9a-f]+, lba=40, /);
});

t.test('md5 verify writes then reads back clean; crc32c blocks read with md5 are a header mismatch', async (t) => {
  await withDevice('emu:backend=ram,size=64M', ['--size=2m', '--verify=md5', '--name=w', '--rw=randwrite', '--bs=16k', '--iodepth=8'], async (d, cfg) => {
    const [w] = await runJobs(d, cfg.jobs, cfg.run, quiet);
    t.equal(w.error, 0, w.errorMessage ?? 'no error');
    t.equal(w.write.bytes, 2 << 20);
    t.equal(w.read.bytes, 2 << 20, 'do_verify read everything back');
    t.equal(w.verifyChecked, 4096);
    t.equal(w.verifyErrors, 0);
    t.equal(w.verify, 'md5', 'the checksum the job used');
    // The blocks on the device carry md5 headers: a crc32c read job names the mismatch.
    const crc = parseBenchArgs(['--size=64k', '--verify=crc32c', '--name=c', '--rw=read', '--iodepth=2']);
    const [c] = await runJobs(d, crc.jobs, crc.run, quiet);
    t.equal(c.verifyErrors, 128);
    t.match(c.verifyFailures[0].reason, /header mismatch: the block holds an md5 checksum, this job verifies with crc32c/);
    t.equal(c.verifyFailures[0].found.kind, 'md5');
    t.equal(c.verifyFailures[0].expected.kind, 'crc32c');
    // Rewrite the start with crc32c headers, then verify the region with md5 (fatal).
    const rewrite = parseBenchArgs(['--size=64k', '--verify=crc32c', '--name=cw', '--rw=write', '--iodepth=2', '--do_verify=0']);
    t.equal((await runJobs(d, rewrite.jobs, rewrite.run, quiet))[0].error, 0);
    const md5 = parseBenchArgs(['--size=2m', '--verify=md5', '--verify_fatal=1', '--name=m', '--rw=read', '--iodepth=1']);
    const [m] = await runJobs(d, md5.jobs, md5.run, quiet);
    t.equal(m.error, 84);
    t.match(m.errorMessage, /verify failed at LBA 0 \(header mismatch: the header holds no md5 checksum/);
  });
});

t.test('an IO error injected by the emulator stops the job with its status and LBA', async (t) => {
  await withDevice('emu:backend=null,faults=fail:lba=300:status=0x281', ['--name=e', '--rw=read', '--size=1m', '--iodepth=4'], async (d, cfg) => {
    const [r] = await runJobs(d, cfg.jobs, cfg.run, quiet);
    t.equal(r.error, 5);
    t.match(r.errorMessage, /read of 8 blocks at LBA 296 failed with NVMe status 0x281/);
    t.ok(r.read.bytes < 1 << 20, 'the job stopped');
  });
});

t.test('bad input is refused before any IO reaches the device', async (t) => {
  const cases: Array<[string, string[], RegExp]> = [
    ['emu:lbads=12', ['--name=a', '--bs=512'], /bs=512B is not a multiple of the namespace's LBA size \(4096 bytes\)/],
    ['emu:size=16M', ['--name=a', '--size=32m'], /reaches beyond namespace 1/],
    ['emu:qsize=64', ['--name=a', '--iodepth=64'], /iodepth=64 is beyond the queue size: this controller's queues hold at most 64 entries, so at most 48 commands/],
    ['emu', ['--name=a', '--nsid=5'], /--nsid=5: namespace 5 is not active on this controller \(active: 1\)/],
  ];
  for (const [target, args, re] of cases) {
    await withDevice(target, args, async (d, cfg) => {
      await t.rejects(runJobs(d, cfg.jobs, cfg.run, quiet), re, `${target} ${args.join(' ')}`);
      t.equal(ioCommands(d), 0, 'no IO command was sent');
    });
  }
});

t.test('the command: exit codes, output file, errors on stderr', async (t) => {
  const errors: string[] = [];
  const origErr = console.error;
  console.error = (...a: unknown[]) => void errors.push(a.join(' '));
  t.teardown(() => void (console.error = origErr));
  const out = path.join(tmp, 'out.json');
  t.equal(await run(['emu:backend=null', '--name=j', '--rw=randread', '--runtime=200ms', '--time_based', '--output-format=json+', `--output=${out}`, '--eta=never']), 0);
  const doc = JSON.parse(fs.readFileSync(out, 'utf8'));
  t.equal(doc.jobs[0].jobname, 'j');
  t.ok(Object.keys(doc.jobs[0].read.clat_ns.bins).length > 0);
  t.equal(await run(['emu:backend=null', '--zonemode=zbd']), 2);
  t.match(errors.pop(), /fio option 'zonemode' is not supported/);
  t.equal(await run(['emu:lbads=12', '--name=a', '--bs=1k']), 2);
  t.match(errors.pop(), /not a multiple of the namespace's LBA size/);
  t.equal(await run(['0000:ff:1f.7', '--name=a']), 2);
  t.match(errors.pop(), /there is no PCI device 0000:ff:1f\.7 on this machine/);
  t.equal(await run(['emu', '--name=a', '--dptr=sgl']), 2);
  t.match(errors.pop(), /--dptr=sgl needs a controller with SGL support .* reports none; use --dptr=auto or --dptr=prp \(or give the embedded controller SGL: emu:sgl=on\)/);
  t.equal(await run(['emu', '--name=a', '--mem=cmb']), 2);
  t.match(errors.pop(), /--mem=cmb: .*CAP.CMBS = 0.*emu:cmb=64M/);
  t.equal(await run(['emu:cmb=1M', '--name=a', '--mem=cmb', '--iodepth=64', '--bs=64k']), 2);
  t.match(errors.pop(), /need 4194304 bytes of buffers at once .* the CMB holds 1048576; lower --iodepth/);
  t.equal(await run(['emu', '--name=a', '--mem=p2p:0000:ff:1f.7']), 2);
  t.match(errors.pop(), /needs a VFIO target in the same IOMMU domain; with the embedded controller use --mem=p2p:emu/);
  t.equal(await run(['emu', '--name=a', '--mem=p2p:emu', '--name=b', '--mem=p2p:0000:ff:1f.7']), 2);
  t.match(errors.pop(), /must share one peer/);
  t.equal(await run(['--help']), 0);
});

t.test('no arguments: the default job on emu prints fio-like output', async (t) => {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const origErr = console.error;
  console.error = () => undefined;
  process.stdout.write = ((s: string) => (chunks.push(String(s)), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await run([]);
  } finally {
    process.stdout.write = write;
    console.error = origErr;
  }
  const text = chunks.join('');
  t.equal(code, 0, text);
  t.match(text, /on emu: the embedded emulated controller/);
  t.match(text, /phyr-default: \(g=0\): rw=randread, bs=\(R\) 4096B-4096B.*iodepth=32/);
  t.match(text, /  read: IOPS=[\d.]+[kMG]?, BW=/);
  t.match(text, /clat percentiles/);
  t.match(text, /Run status group 0 \(all jobs\):\n   READ: bw=/);
});
