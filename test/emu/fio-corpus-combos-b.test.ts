// The differential corpus, command-line cases, second half: each option combination of
// fixtures/fio-corpus/combos.ts through real fio (psync on a 16 MiB file) and phyr (the
// embedded controller, a 16 MiB RAM namespace); jobs, groups, errors, IOs and bytes per
// direction and the job options reported agree, within a case's stated tolerance.
import t from 'tap';
import { COMBOS, COMBO_HALVES } from './fixtures/fio-corpus/combos';
import { runCombos } from './fixtures/fio-corpus/run-combos';

t.test(`combinations ${COMBO_HALVES[0].length + 1}-${COMBOS.length} agree with fio 3.33`, (t) => runCombos(t, COMBO_HALVES[1], 'b'));
