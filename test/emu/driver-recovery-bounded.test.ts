// Recovery is bounded: a fault during a reset is retried (with backoff) up to the
// attempt limit, a fault that keeps recurring stops after the reset budget, and then the
// controller is dead: every pending and later IO fails with ControllerDeadError naming
// the cause, and close() completes. Timeouts surface as NvmeTimeoutError after
// timeoutMs, whether the Abort succeeded or the completion was lost.
import t from 'tap';
import * as phyr from '../../index';
import { within } from '../helpers/settle';
import type { EmuFunction } from '../../emu';


const outcome = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'ok', (e: unknown) => e);

t.test('CSTS.CFS within 0-3 ms after reset(): 20 of 20 runs settle and come back live', async (t) => {
  let live = 0;
  for (let run = 0; run < 20; run++) {
    const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs: 500 });
    const fn = ctrl.fn as EmuFunction;
    const ns = ctrl.namespace(1);
    await ns.write(0, Buffer.alloc(4096, run));
    const delay = run % 4; // 0..3 ms
    const injected = new Promise<void>((r) => setTimeout(() => (fn.inject('cfs'), r()), delay));
    const reset = outcome(ctrl.reset());
    const io = outcome(ns.read(0, Buffer.alloc(4096)));
    await injected;
    const [r, i] = await within(15_000, `run ${run}: reset() and IO`, Promise.all([reset, io]));
    t.ok(r === 'ok' || r instanceof phyr.PhyrError, `run ${run}: reset() settled (${String(r)})`);
    t.ok(i === 'ok' || i instanceof phyr.PhyrError, `run ${run}: IO settled (${String(i)})`);
    // The CFS may land after reset() finished: the CSTS watch then starts a second
    // recovery. The application retries what a reset cancelled, as documented.
    const back = Buffer.alloc(4096);
    for (let tries = 0; tries < 50; tries++) {
      await within(15_000, `run ${run}: ready()`, ctrl.ready());
      const again = await within(15_000, `run ${run}: IO after recovery`, outcome(ns.read(0, back)));
      if (again === 'ok') {
        if (back[0] === run) live++;
        break;
      }
      if (!(again instanceof phyr.ControllerResetError || again instanceof phyr.ControllerResettingError)) {
        t.fail(`run ${run}: IO after recovery: ${String(again)}`);
        break;
      }
      await new Promise((res) => setTimeout(res, 20));
    }
    await within(15_000, `run ${run}: close()`, ctrl.close());
  }
  t.equal(live, 20, 'a single CFS is recovered from every time (retried, not given up)');
});

t.test('CFS on every attempt: bounded attempts with backoff, then dead; close() completes', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs: 300, recovery: { attempts: 3, backoffMs: 20 } });
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  // A sticky CFS: raised now and again at every enable, so every reset attempt sees it.
  fn.inject('cfs:sticky');
  const started = Date.now();
  const r = await within(20_000, 'reset()', outcome(ctrl.reset('test')));
  t.type(r, phyr.ControllerDeadError, `reset() rejects with ControllerDeadError (${String(r)})`);
  t.equal((r as phyr.PhyrError).code, 'PHYR_CONTROLLER_DEAD');
  t.match((r as Error).message, /3 reset attempts failed/);
  t.equal(ctrl.recovery.attempts, 3, 'exactly the attempt limit');
  t.ok(Date.now() - started >= 20 + 40, 'backed off between attempts (20 ms, then 40 ms)');
  t.equal(ctrl.status, 'dead');
  const io = await outcome(ns.read(0, Buffer.alloc(512)));
  t.type(io, phyr.ControllerDeadError, 'later IO rejects with the dead error');
  await t.rejects(ctrl.reset(), { code: 'PHYR_CONTROLLER_DEAD' }, 'reset() of a dead controller rejects too');
  await within(10_000, 'close()', ctrl.close());
  t.equal(ctrl.status, 'closed');
});

t.test('cfs:sticky fails every attempt until clear; then the same reset() comes back live', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs: 300, recovery: { attempts: 50, backoffMs: 10 } });
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  await ns.write(0, Buffer.alloc(512, 0x5a));
  fn.inject('cfs:sticky');
  const r = outcome(ctrl.reset('test'));
  const deadline = Date.now() + 15_000;
  while (ctrl.recovery.attempts < 2 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 2));
  t.ok(ctrl.recovery.attempts >= 2, `attempts failed while the fault is sticky (${ctrl.recovery.attempts})`);
  fn.inject('clear');
  t.equal(await within(15_000, 'reset()', r), 'ok', 'the reset succeeds once the rule is cleared');
  const back = Buffer.alloc(512);
  await ns.read(0, back);
  t.equal(back[0], 0x5a, 'the data is read back');
  await within(10_000, 'close()', ctrl.close());
});

t.test('a fault recurring every 50 commands: at most maxResets resets, then dead', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M,faults=cfs:after=50', { timeoutMs: 300 });
  const ns = ctrl.namespace(1);
  const errors = new Map<string, number>();
  let ok = 0;
  for (let i = 0; i < 300; i++) {
    const r = await within(15_000, `IO ${i}`, outcome(ns.read(i, Buffer.alloc(512))));
    if (r === 'ok') ok++;
    else errors.set((r as phyr.PhyrError).code, (errors.get((r as phyr.PhyrError).code) ?? 0) + 1);
    if (r !== 'ok' && !(r instanceof phyr.ControllerDeadError)) await ctrl.ready();
  }
  t.comment(`ok ${ok}, errors ${JSON.stringify([...errors])}, resets ${ctrl.recovery.resets}`);
  t.ok(ctrl.recovery.resets <= phyr.RECOVERY_DEFAULTS.maxResets, `resets bounded (${ctrl.recovery.resets} <= ${phyr.RECOVERY_DEFAULTS.maxResets})`);
  t.equal(ctrl.status, 'dead', 'declared dead');
  const dead = ctrl.deadReason as phyr.ControllerDeadError;
  t.type(dead, phyr.ControllerDeadError);
  t.match(dead.message, /CSTS\.CFS/, 'the error names the cause');
  t.match(dead.message, /maxResets/, 'and the limit');
  t.ok((errors.get('PHYR_CONTROLLER_DEAD') ?? 0) > 200, 'the IO after that rejects with it');
  await within(10_000, 'close()', ctrl.close());
});

t.test('IO pending when the controller dies rejects with the dead error', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs: 200, recovery: { maxResets: 0 } });
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  fn.inject('stop:qid=1');
  const pending = [0, 1, 2, 3].map((i) => outcome(ns.read(i, Buffer.alloc(512))));
  fn.inject('cfs');
  const res = await within(10_000, 'pending IO', Promise.all(pending));
  for (const r of res) t.type(r, phyr.ControllerDeadError, String(r));
  t.match(String(res[0]), /controller fatal status/);
  await within(10_000, 'close()', ctrl.close());
});

t.test('a held command whose Abort succeeds surfaces as NvmeTimeoutError, with no reset', async (t) => {
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs: 100 });
  t.teardown(() => ctrl.close());
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  fn.inject('delay:time=3s:nth=1:op=read');
  const started = Date.now();
  const err = await within(5_000, 'the delayed read', outcome(ns.read(0, Buffer.alloc(512))));
  const took = Date.now() - started;
  fn.inject('clear');
  t.type(err, phyr.NvmeTimeoutError, String(err));
  t.equal((err as phyr.NvmeTimeoutError).endedBy, 'aborted');
  t.notMatch(String(err), /Command Abort Requested/);
  t.ok(took >= 100 && took < 1000, `after the timeout (${took} ms)`);
  t.equal(ctrl.recovery.aborts, 1);
  t.equal(ctrl.recovery.resets, 0, 'the Abort ended it: no reset');
  await ns.read(0, Buffer.alloc(512));
});

t.test('a lost completion surfaces after timeoutMs, not twice that', async (t) => {
  const timeoutMs = 400;
  const ctrl = await phyr.open('emu:backend=ram,size=16M', { timeoutMs });
  t.teardown(() => ctrl.close());
  const fn = ctrl.fn as EmuFunction;
  const ns = ctrl.namespace(1);
  fn.inject('drop:nth=1:op=read');
  const started = Date.now();
  const err = await within(5_000, 'the dropped read', outcome(ns.read(0, Buffer.alloc(512))));
  const took = Date.now() - started;
  fn.inject('clear');
  t.type(err, phyr.NvmeTimeoutError, String(err));
  t.ok(took >= timeoutMs, `not before the timeout (${took} ms)`);
  t.ok(took < 1.6 * timeoutMs, `well before twice the timeout (${took} ms < ${1.6 * timeoutMs})`);
  await ctrl.ready();
  await ns.read(0, Buffer.alloc(512));
});
