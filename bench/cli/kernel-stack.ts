// Job files written for the kernel's block stack: the engine, the device node and the
// engine tuning options. phyr replaces the engine with its own native loop and the node
// with the TARGET given on the command line, and says so in one notice line per option;
// an option whose meaning phyr cannot give (a CPU or network engine, IO priorities) is
// refused with the reason.
import { BenchOptionError } from './errors';
import type { BenchOption } from './option-types';
import { parseBool, parseInteger } from './units';

/** fio engines that drive a block device: phyr's loop stands in for them. */
export const BLOCK_ENGINES = [
  'sync', 'psync', 'vsync', 'pvsync', 'pvsync2', 'libaio', 'io_uring', 'io_uring_cmd', 'posixaio',
  'mmap', 'splice', 'sg', 'xnvme', 'spdk', 'spdk_bdev',
] as const;

/** fio engines that do no block IO at all: nothing phyr's loop could stand in for. */
export const NON_BLOCK_ENGINES: Record<string, string> = {
  cpuio: 'a CPU-burning engine, no IO',
  net: 'a network engine', netsplice: 'a network engine', rdma: 'a network engine', http: 'a network engine',
  nbd: 'a network block device client', rbd: 'a Ceph client', rados: 'a Ceph client', gfapi: 'a GlusterFS client', nfs: 'an NFS client', libhdfs: 'an HDFS client',
  exec: 'runs a program, no IO', falloc: 'a filesystem operation', ftruncate: 'a filesystem operation', e4defrag: 'a filesystem operation',
  filecreate: 'a filesystem operation', filestat: 'a filesystem operation', filedelete: 'a filesystem operation',
  dircreate: 'a filesystem operation', dirstat: 'a filesystem operation', dirdelete: 'a filesystem operation',
  'dev-dax': 'persistent memory, not NVMe', libpmem: 'persistent memory, not NVMe', mtd: 'raw flash, not NVMe',
};

/** Engine options of fio's kernel engines; fio accepts each only once its engine is set. */
const ENGINE_OPTIONS: Record<string, { engines: string[]; notice: string }> = {
  hipri: { engines: ['io_uring', 'io_uring_cmd', 'pvsync2'], notice: 'accepted: phyr always polls its completion queues (no interrupts)' },
  hipri_percentage: { engines: ['pvsync2'], notice: 'accepted: every phyr completion is polled' },
  fixedbufs: { engines: ['io_uring', 'io_uring_cmd'], notice: 'accepted: phyr\'s data buffers are always pre-mapped DMA memory' },
  registerfiles: { engines: ['io_uring', 'io_uring_cmd'], notice: 'ignored: there are no files; phyr addresses the namespace itself' },
  sqthread_poll: { engines: ['io_uring', 'io_uring_cmd'], notice: 'ignored: there is no kernel submission thread; each job thread rings its own doorbell' },
  sqthread_poll_cpu: { engines: ['io_uring', 'io_uring_cmd'], notice: 'ignored: there is no kernel submission thread to pin' },
  nonvectored: { engines: ['io_uring', 'io_uring_cmd'], notice: 'ignored: commands carry PRP or SGL data pointers, not iovecs' },
  force_async: { engines: ['io_uring', 'io_uring_cmd'], notice: 'ignored: submission never goes through a kernel worker' },
  uncached: { engines: ['io_uring', 'pvsync2'], notice: 'ignored: phyr has no page cache' },
  nowait: { engines: ['io_uring', 'libaio', 'pvsync2'], notice: 'ignored: submitting to an NVMe queue never blocks in the kernel' },
  cmd_type: { engines: ['io_uring_cmd'], notice: 'accepted: phyr issues NVMe commands itself' },
  userspace_reap: { engines: ['libaio'], notice: 'accepted: phyr always reaps completions in user space' },
};

/** Generic fio options without a meaning on phyr's loop yet: accepted with a notice. */
const GENERIC_NOTICES: Record<string, string> = {
  invalidate: 'ignored: phyr has no page cache, so there is nothing to invalidate',
};

/** A device node of the kernel's NVMe driver: /dev/nvmeXnY (block) or /dev/ngXnY (char). */
export const KERNEL_NAMESPACE_NODE = /^\/dev\/(nvme|ng)(\d+)n(\d+)$/;

export const KERNEL_STACK_OPTIONS: BenchOption[] = [
  {
    name: 'ioengine', scope: 'job', treatment: 'notice',
    help: `phyr's native loop; a kernel block engine (${BLOCK_ENGINES.join(', ')}) is replaced by it, with a notice`,
    applyJob: (j, v, ctx) => {
      const val = v ?? '';
      if (val === '') throw new BenchOptionError('ioengine', val, 'a value is required');
      const engine = val.replace(/^external:/, '');
      if (engine === 'phyr') {
        j.kernelEngine = undefined;
        delete j.nullEngine;
        return;
      }
      // fio's null engine: its twin is phyr's null TARGET; config.ts checks the TARGET.
      if (engine === 'null') {
        j.kernelEngine = undefined;
        j.nullEngine = true;
        return;
      }
      delete j.nullEngine;
      if ((BLOCK_ENGINES as readonly string[]).includes(engine)) {
        j.kernelEngine = engine;
        ctx.notice(`--ioengine=${val}: replaced by phyr's native NVMe loop (one thread and one queue pair per job)`);
        return;
      }
      const why = NON_BLOCK_ENGINES[engine];
      if (why) throw new BenchOptionError('ioengine', val, `${why}; phyr's loop only stands in for block-IO engines (${BLOCK_ENGINES.join(', ')})`);
      throw new BenchOptionError('ioengine', val, `not a fio engine phyr knows; use ioengine=phyr or a block engine (${BLOCK_ENGINES.join(', ')})`);
    },
  },
  {
    name: 'filename', scope: 'job', treatment: 'notice',
    help: 'the job\'s device or file: replaced by the TARGET given on the command line (with a notice); without one, a kernel namespace node /dev/nvmeXnY or /dev/ngXnY resolves through sysfs to its controller',
    applyJob: (j, v) => {
      const val = v ?? '';
      if (val === '') throw new BenchOptionError('filename', val, 'a value is required');
      // fio separates a list of files with ':' and takes `\:` as a colon in a name
      // (/dev/bsg/0\:0\:0\:0), so only an unescaped colon makes a list.
      if (/(^|[^\\]):/.test(val)) throw new BenchOptionError('filename', val, 'one device per job: phyr drives one namespace, not a list of files (a colon in a name is written \\:, as in fio)');
      // Whether it can stand is decided once the TARGET is known (resolveKernelNamespaces).
      j.kernelFilename = val.replace(/\\:/g, ':');
    },
  },
  ...Object.entries(ENGINE_OPTIONS).map(([name, o]): BenchOption => ({
    name, scope: 'job', flag: true, treatment: 'notice', help: `${o.engines.join('/')} engine option: ${o.notice}`,
    applyJob: (j, v, ctx) => {
      if (!j.kernelEngine || !o.engines.includes(j.kernelEngine)) {
        throw new BenchOptionError(name, v ?? '', `an option of fio's ${o.engines.join(', ')} engine${o.engines.length > 1 ? 's' : ''}: as in fio, set ioengine=${o.engines[0]} before it${j.kernelEngine ? ` (this job's engine is ${j.kernelEngine})` : ''}`);
      }
      if (name === 'cmd_type' && v !== 'nvme') throw new BenchOptionError(name, v ?? '', 'the only command type is nvme');
      ctx.notice(`--${name}${v === undefined ? '' : `=${v}`}: ${o.notice}`);
    },
  })),
  ...Object.entries(GENERIC_NOTICES).map(([name, notice]): BenchOption => ({
    name, scope: 'job', treatment: 'notice', flag: name === 'invalidate', help: notice,
    applyJob: (_j, v, ctx) => {
      // The value is still checked as fio would, so a typo is not waved through.
      if (name === 'invalidate') parseBool(name, v);
      else parseInteger(name, v ?? '', 0, 65535);
      ctx.notice(`--${name}${v === undefined ? '' : `=${v}`}: ${notice}`);
    },
  })),
];
