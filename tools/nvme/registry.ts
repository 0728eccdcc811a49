// The `phyr nvme` subcommands, in the order the help lists them.
import type { Subcommand } from './subcommand';
import { idCtrl, idNs, listNs, nsDescs } from './subcommands/identify';
import { errorLog, fwLog, getLog, smartLog } from './subcommands/logs';
import { getFeature, setFeature } from './subcommands/features';
import { compare, dsm, flush, format, writeZeroes } from './subcommands/nvm';
import { adminPassthru, ioPassthru, reset, showRegs } from './subcommands/controller';

export const SUBCOMMANDS: readonly Subcommand[] = [
  idCtrl, idNs, listNs, nsDescs, smartLog, errorLog, fwLog, getLog, getFeature, setFeature, format, flush, dsm, writeZeroes, compare, adminPassthru, ioPassthru, reset, showRegs,
];

export function findSubcommand(name: string): Subcommand | undefined {
  return SUBCOMMANDS.find((s) => s.name === name);
}
