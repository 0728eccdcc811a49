// The differential corpus, command-line cases, part 2 of 3: each option combination of
// fixtures/fio-corpus/combos.ts through real fio (psync on a 16 MiB file) and phyr (the
// embedded controller, a 16 MiB RAM namespace); jobs, groups, errors, IOs and bytes per
// direction and the job options reported agree, within a case's stated tolerance.
import t from 'tap';
import { COMBOS, comboPart } from './fixtures/fio-corpus/combos';
import { runCombos } from './fixtures/fio-corpus/run-combos';

const { first, combos } = comboPart(1);

t.test(`combinations ${first}-${first + combos.length - 1} of ${COMBOS.length} agree with fio 3.33`, (t) => runCombos(t, combos, 'b'));
