// The bench room's native glue refuses bad arguments with JS errors (no crash), and its
// memcpy reference measures something.
import t from 'tap';
import { benchNative } from '../../bench/cli/native';

t.test('startJob refuses anything that is not a live queue pair, and malformed calls', async (t) => {
  const { BenchJob, progressFields } = benchNative();
  const progress = new Float64Array(progressFields.count);
  t.throws(() => new BenchJob({}, {} as never, null, 0, progress), TypeError);
  t.throws(() => new BenchJob(null as never, {} as never, null, 0, progress), TypeError);
  t.throws(() => (BenchJob as unknown as (...a: unknown[]) => unknown)(), /./);
  t.throws(() => new BenchJob({}, {} as never, null, 0, new Float64Array(1)), TypeError);
  t.throws(() => new BenchJob({}, {} as never, null, 'x' as never, progress), /usage: startJob/);
});

t.test('progress fields are distinct indices', async (t) => {
  const f = benchNative().progressFields;
  const idx = [f.state, f.readIos, f.writeIos, f.readBytes, f.writeBytes, f.elapsedNs, f.verifyErrors, f.ioErrors];
  t.equal(new Set(idx).size, idx.length);
  t.ok(idx.every((i) => i < f.count));
});

t.test('memcpy bandwidth and the clock', async (t) => {
  const n = benchNative();
  const r = n.memcpyBandwidth(1 << 20, 5);
  t.ok(r.bytesPerSecond > 1e8);
  t.ok(r.bytesCopied >= 1 << 20);
  t.throws(() => n.memcpyBandwidth(1, 5), RangeError);
  t.throws(() => n.memcpyBandwidth(1 << 20, 0), RangeError);
  t.throws(() => (n.memcpyBandwidth as unknown as () => unknown)(), TypeError);
  const k = n.nsPerTick();
  t.ok(k > 0.01 && k < 100, `ns per TSC tick ${k}`);
});

t.test('the engine floor: the loop against a queue with no device', async (t) => {
  const n = benchNative();
  const r = n.engineFloor(32, 20);
  t.equal(r.error, '');
  t.ok(r.ios > 1000, `${r.ios} IOs`);
  t.ok(r.iops > 1e5);
  t.ok(r.cpuNsPerIo > 0 && r.cpuNsPerIo < 100000);
  t.throws(() => n.engineFloor(0, 10), RangeError);
  t.throws(() => n.engineFloor(1.5, 10), RangeError);
  t.throws(() => (n.engineFloor as unknown as () => unknown)(), TypeError);
});

t.test('the driver floor: the engine on the driver\'s QueuePair over a loopback controller', async (t) => {
  const n = benchNative();
  const r = n.driverFloor(32, 20);
  t.equal(r.error, '');
  t.ok(r.ios > 1000, `${r.ios} IOs`);
  t.ok(r.cpuNsPerIo > 0);
  t.ok(r.driverNsPerIo >= 0);
  t.throws(() => n.driverFloor(5000, 10), RangeError);
  t.throws(() => (n.driverFloor as unknown as () => unknown)(), TypeError);
});
