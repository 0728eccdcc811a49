// The VM tier's in-guest entry point: one node process runs every case.
//   node build/vm-ts/test/vm/suite.js [FILTER]
import { runCases } from './harness';
import './cases/topology'; // first: the guest's view of test/vm/topology.ts
import './cases/vfio';
import './cases/errors';
import './cases/conformance';
import './cases/cmb';
import './cases/driver';
import './cases/shadow-doorbells';
import './cases/validate';
import './cases/bench';
import './cases/fabric';
import './cases/serve';
import './cases/nvme-cli'; // before setup, which formats and rebinds the kernel's controller
import './cases/setup';
import './cases/hotplug'; // last: it removes a controller

runCases(process.argv[2] ?? '').then(
  (results) => {
    process.exitCode = results.every((r) => r.ok) && results.length > 0 ? 0 : 1;
  },
  (err: unknown) => {
    console.log(`the suite crashed: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  },
);
