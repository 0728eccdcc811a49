// bench/vm-threads.js: QEMU's per-thread host CPU for the VM section — /proc task stats
// read and named, and a row's interval split into vCPU threads, the main loop and the rest.
import t from 'tap';
import path from 'path';

interface Task { name: string; seconds: number }
interface Usage { vcpu: number; main: number; other: number; seconds: number }
interface Sampler { pid: number | undefined; samples: Array<{ t: number; tasks: Map<number, Task> }>; usage(start: number, end: number): Usage | undefined }
const mod = require(path.resolve(__dirname, '..', '..', 'bench', 'vm-threads.js')) as {
  readTasks(pid: number): Map<number, Task> | null;
  QemuThreadSampler: new (parent: number) => Sampler;
};

t.test('readTasks names every thread of a process and reads its CPU seconds', async (t) => {
  const tasks = mod.readTasks(process.pid);
  t.ok(tasks, 'this process is readable');
  const main = tasks!.get(process.pid);
  t.ok(main, 'the main thread is listed under its own id');
  t.equal(main!.name, require('fs').readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim());
  t.ok(main!.seconds >= 0 && Number.isFinite(main!.seconds));
  t.equal(mod.readTasks(2 ** 22 + 12345), null, 'a process that does not exist');
});

t.test('usage splits an interval into vCPU threads, the main loop and the rest', async (t) => {
  const s = new mod.QemuThreadSampler(process.pid);
  s.pid = 100;
  const at = (main: number, cpu0: number, cpu1: number, worker: number) =>
    new Map<number, Task>([
      [100, { name: 'qemu-system-x86', seconds: main }],
      [101, { name: 'CPU 0/TCG', seconds: cpu0 }],
      [102, { name: 'CPU 1/TCG', seconds: cpu1 }],
      [103, { name: 'worker', seconds: worker }],
    ]);
  s.samples.push({ t: 1000, tasks: at(1, 5, 0, 0) }, { t: 2000, tasks: at(1.25, 5.5, 0.5, 0.25) }, { t: 3000, tasks: at(1.5, 6, 1, 0.5) });
  const u = s.usage(900, 3100)!;
  t.equal(u.seconds, 2);
  t.equal(u.vcpu, 100, 'two vCPU threads at half a core each');
  t.equal(u.main, 25);
  t.equal(u.other, 25);
  t.equal(s.usage(1500, 2500), undefined, 'one sample is no interval');
});
