// `phyr identify`: text like nvme-cli, JSON with its field names, errors and help.
import t from 'tap';
import { run } from '../../tools/commands/identify';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

t.test('controller and namespace, text and JSON', async (t) => {
  const a = capture();
  t.equal(await run(['emu:serial=CLI1'], a.io), 0);
  t.match(a.out.join('\n'), /^NVME Identify Controller:\nvid       : 0x[0-9a-f]+\n[\s\S]*\nsn        : CLI1\n[\s\S]*\nmdts      : 7\n/);
  const b = capture();
  t.equal(await run(['emu:size=1M', '--ns', '1', '--json'], b.io), 0);
  const ns = JSON.parse(b.out.join('\n'));
  t.equal(ns.nsze, 2048);
  t.same(ns.lbafs[0], { ms: 0, ds: 9, rp: 0 });
  const c = capture();
  t.equal(await run(['emu', '--json'], c.io), 0);
  t.equal(JSON.parse(c.out.join('\n')).sn, 'PHYREMU0001');
  const d = capture();
  t.equal(await run(['emu:size=1M', '--ns', '1'], d.io), 0);
  t.match(d.out.join('\n'), /^NVME Identify Namespace 1:\nnsze    : 0x800\n[\s\S]*lbaf  0 : ms:0   lbads:9  rp:0x0 \(in use\)/);
});

t.test('errors and help', async (t) => {
  const a = capture();
  t.equal(await run(['emu', '--ns', '9'], a.io), 1);
  t.match(a.err.join('\n'), /namespace 9 is not an active namespace/);
  const b = capture();
  t.equal(await run(['--ns', 'x'], b.io), 2);
  t.match(b.err.join(''), /--ns needs a namespace id/);
  const c = capture();
  t.equal(await run(['bogus-target'], c.io), 2, 'a malformed target is a usage error');
  t.match(c.err.join(''), /is not a target/);
  const d = capture();
  t.equal(await run(['--help'], d.io), 0);
  t.match(d.out.join(''), /usage: phyr identify/);
  const e = capture();
  t.equal(await run(['--frob'], e.io), 2);
  const f = capture();
  t.equal(await run(['emu', 'emu'], f.io), 2);
});
