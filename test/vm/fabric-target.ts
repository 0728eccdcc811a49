// The NVMe/TCP target as the VM tier's fabric case starts it, in a process of its own (the
// case runs nvme-cli, fio and mount synchronously, which would stall a target in its own
// event loop): the embedded controller behind one subsystem, one allowed host.
//   node fabric-target.js TARGET PORT SUBNQN HOSTNQN
// Prints "listening PORT" once bound, then one line per target event; ends on SIGTERM.
import { controllerBackend } from '../../fabrics/backend';
import { TcpTarget } from '../../fabrics/target';
import { open } from '../../targets/open';

async function main(): Promise<void> {
  const [target, port, subnqn, hostnqn] = process.argv.slice(2);
  const ctrl = await open(target);
  const t = await TcpTarget.listen({ port: Number(port), subsystems: [{ nqn: subnqn, backend: await controllerBackend(ctrl), allowHosts: [hostnqn] }], log: (l) => console.log(l) });
  console.log(`listening ${t.address.port}`);
  process.on('SIGTERM', () => {
    void t.close().then(() => ctrl.close()).then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.log(`fabric-target failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
