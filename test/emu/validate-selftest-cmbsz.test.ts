// Self-test of phyr validate on every CMBSZ support-bit combination (cmbsz=, NVMe 1.4
// §3.1.13): the CMB cases derive what they expect from the bits, so each of the 32 subsets
// of SQS, CQS, LISTS, RDS, WDS passes with 0 fail; a use whose bit is set is checked to work,
// one whose bit is clear to be refused with Invalid Use of Controller Memory Buffer (§4.7).
// Only the CMB cases run (--case), which keeps the 32 runs short; the full suites run on a
// CMB in validate-selftest-configs.test.ts.
import t from 'tap';
import { CMBSZ_BITS, formatCmbsz } from '../../emu/cmbsz';
import { validateEmu } from '../helpers/validate-emu';

const CMB_CASES = 'registers.cmb,dptr.cmb,admin.cmb,p2p.cmb';
const ALL = Object.values(CMBSZ_BITS).reduce((a, b) => a | b, 0);

/** For each case, whether it runs (pass) or cannot apply, given the bits. */
function expected(bits: number): Record<string, 'pass' | 'not-applicable'> {
  const has = (name: string): boolean => (bits & CMBSZ_BITS[name]) !== 0;
  const when = (c: boolean): 'pass' | 'not-applicable' => (c ? 'pass' : 'not-applicable');
  return {
    'registers.cmb.cre-gates-registers': 'pass',
    'dptr.cmb.data-roundtrip': when(has('rds') && has('wds')),
    'dptr.cmb.mixing': when(has('rds')),
    'dptr.cmb.prp-list': when(has('rds')),
    'dptr.cmb.read-data-refused': when(!has('rds')),
    'dptr.cmb.write-data-refused': when(!has('wds')),
    'admin.cmb.sq-in-cmb': when(has('sqs')),
    'admin.cmb.sq-in-cmb-refused': when(!has('sqs')),
    'admin.cmb.cq-in-cmb': when(has('cqs')),
    'admin.cmb.cq-in-cmb-refused': when(!has('cqs')),
    'p2p.cmb.read-data': when(has('rds')),
    'p2p.cmb.write-data': when(has('wds')),
  };
}

for (let bits = 0; bits <= ALL; bits++) {
  const target = `emu:size=16M,cmb=1M,cmbsz=${formatCmbsz(bits)}`;
  t.test(`0 fail on ${target}`, async (t) => {
    const r = await validateEmu([target, '--case', CMB_CASES, '--destructive', '--yes']);
    t.equal(r.code, 0, 'exit status 0');
    const got = Object.fromEntries(r.report.cases.map((c) => [c.id, c.outcome.status]));
    t.same(got, expected(bits), 'each CMB case runs and passes when its bits allow, else cannot apply');
    for (const c of r.report.cases) {
      if (c.outcome.status === 'not-applicable') t.match(c.outcome.reason, /CMBSZ = 0x[0-9a-f]+|CMBSZ\.[A-Z]{3} = 0/, `${c.id} names the bits`);
    }
  });
}
