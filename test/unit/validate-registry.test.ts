// The case registry: id, suite and uniqueness checks, selection by suite and pattern.
import t from 'tap';
import { CaseRegistry, compilePattern, parseSuites } from '../../tools/validate/registry';
import type { ValidateCase } from '../../tools/validate/types';

const mk = (id: string, suite: ValidateCase['suite'], extra: Partial<ValidateCase> = {}): ValidateCase => ({
  id,
  suite,
  purpose: `checks ${id}`,
  spec: 'NVMe 1.4 §4.3',
  run: async () => ({ status: 'pass' }),
  ...extra,
});

const registry = () =>
  new CaseRegistry().add([
    mk('dptr.prp.offset', 'dptr'),
    mk('dptr.prp.list-chain', 'dptr'),
    mk('dptr.sgl.bit-bucket', 'dptr'),
    mk('registers.cap.mqes', 'registers'),
    mk('integrity.sequential', 'integrity', { destructive: true, needs: 'driver' }),
  ]);

t.test('cases come out in suite order; raw cases default to raw needs', async (t) => {
  const r = registry();
  t.equal(r.size, 5);
  t.same(r.all().map((c) => c.id), ['registers.cap.mqes', 'dptr.prp.offset', 'dptr.prp.list-chain', 'dptr.sgl.bit-bucket', 'integrity.sequential']);
  t.equal(r.get('dptr.prp.offset')?.needs, 'raw');
  t.equal(r.get('integrity.sequential')?.needs, 'driver');
  t.equal(r.get('nope'), undefined);
});

t.test('a registered case keeps its own this', async (t) => {
  const holder = {
    id: 'admin.identify.this',
    suite: 'admin' as const,
    purpose: 'p',
    spec: 's',
    marker: 42,
    async run(this: { marker: number }) {
      return { status: 'pass' as const, detail: String(this.marker) };
    },
  };
  const c = new CaseRegistry().add([holder]).get('admin.identify.this')!;
  t.same(await c.run({} as never), { status: 'pass', detail: '42' });
});

t.test('malformed registrations are refused with a reason', async (t) => {
  t.throws(() => new CaseRegistry().add([mk('Bad Id', 'dptr')]), /case id 'Bad Id' is malformed/);
  t.throws(() => new CaseRegistry().add([mk('x.y', 'nope' as never)]), /names suite 'nope'; suites are registers, admin/);
  t.throws(() => new CaseRegistry().add([mk('x.y', 'dptr', { purpose: '' })]), /needs a purpose and a spec/);
  t.throws(() => new CaseRegistry().add([mk('x.y', 'dptr'), mk('x.y', 'dptr')]), /registered twice/);
});

t.test('selection by suite and by pattern', async (t) => {
  const r = registry();
  t.same(r.select({ suites: ['dptr'] }).map((c) => c.id), ['dptr.prp.offset', 'dptr.prp.list-chain', 'dptr.sgl.bit-bucket']);
  t.same(r.select({ pattern: 'dptr.prp' }).map((c) => c.id), ['dptr.prp.offset', 'dptr.prp.list-chain'], 'dotted prefix');
  t.same(r.select({ pattern: '*.sgl.*,registers.cap.mqes' }).map((c) => c.id), ['registers.cap.mqes', 'dptr.sgl.bit-bucket']);
  t.same(r.select({ pattern: 'dptr.prp.?ffset' }).map((c) => c.id), ['dptr.prp.offset']);
  t.same(r.select({ suites: ['registers'], pattern: 'registers' }).map((c) => c.id), ['registers.cap.mqes']);
  t.throws(() => r.select({ pattern: 'dptr.pr' }), /--case 'dptr.pr' matches no case/);
  t.throws(() => r.select({ suites: ['admin'], pattern: 'dptr.prp' }), /matches no case in suite\(s\) admin/);
  t.throws(() => r.select({ pattern: ' , x' }), /empty --case pattern/);
  t.ok(compilePattern('A.B')('a.b'), 'case-insensitive');
  t.notOk(compilePattern('a.(b)')('a.b'), 'regex characters are literal');
});

t.test('parseSuites', async (t) => {
  t.same(parseSuites(undefined), []);
  t.same(parseSuites('admin, dptr,admin'), ['admin', 'dptr']);
  t.throws(() => parseSuites('admin,bogus'), /unknown suite 'bogus': suites are registers, admin, dptr/);
  t.throws(() => parseSuites(','), /needs at least one suite/);
});
