// `phyr nvme SUBCOMMAND DEVICE [options]`: nvme-cli's commands, options and output on the
// controllers phyr drives (tools/nvme/).
import { runNvme } from '../nvme/run';

export const summary = "nvme-cli's commands (id-ctrl, smart-log, get-feature, format, ...) with its options and JSON";

export function run(argv: string[]): Promise<number> {
  return runNvme(argv);
}
