// The NVMe/TCP target: a TCP listener, a discovery subsystem, and NVM subsystems each
// backed by a phyr controller. Connects on the admin queue create fabric controllers
// (dynamic model: the target picks the controller ID); IO queues join them by that ID.
// Hosts not on a subsystem's allow-list are refused with Connect Invalid Host, and an
// association whose host stops sending Keep Alive within KATO is torn down (NVMe-oF §3.3,
// NVMe 1.4 §7.12).
import * as net from 'net';
import { NVME } from '../spec/nvme';
import { NVMF, NVME_TCP } from '../spec/nvmf';
import type { FabricBackend } from './backend';
import { DISCOVERY_NQN, discoveryLog } from './discovery';
import { FabricController, type FabricSubsystem } from './fabric-controller';
import { TcpQueue, type ConnectAnswer, type ConnectRequest } from './tcp-queue';

/** One exported subsystem. */
export interface SubsystemOptions {
  nqn: string;
  backend: FabricBackend;
  /** Host NQNs allowed to connect; 'any' admits every host. */
  allowHosts: readonly string[] | 'any';
  /** Reads a log page of the backing controller, for hosts that ask (error, SMART). */
  logPage?: (lid: number, nsid: number, offset: number, bytes: number) => Promise<Buffer>;
}

export interface TcpTargetOptions {
  /** Address to bind; the default is loopback. */
  host?: string;
  /** TCP port; the default is NVMe/TCP's 4420 (0 picks a free one). */
  port?: number;
  subsystems: SubsystemOptions[];
  /** One line per connection, association and refusal. */
  log?: (line: string) => void;
}

const invalidParameters = (dw0: number): ConnectAnswer => ({ status: { sct: NVME.SCT_COMMAND_SPECIFIC, sc: NVMF.SC_CONNECT_INVALID_PARAMETERS }, dw0 });
const KEEP_ALIVE_CHECK_MS = 500;

export class TcpTarget {
  private readonly controllers = new Map<number, FabricController>();
  private readonly queues = new Map<TcpQueue, FabricController | undefined>();
  private nextCntlid = 1;
  private readonly subsystems = new Map<string, SubsystemOptions & FabricSubsystem>();
  private readonly discovery: FabricSubsystem;
  private readonly timer: NodeJS.Timeout;

  private constructor(
    private readonly server: net.Server,
    private readonly options: TcpTargetOptions,
  ) {
    for (const s of options.subsystems) this.subsystems.set(s.nqn, { ...s });
    this.discovery = { nqn: DISCOVERY_NQN, discoveryLog: () => this.log() };
    this.timer = setInterval(() => this.expireKeepAlive(), KEEP_ALIVE_CHECK_MS);
    this.timer.unref();
    server.on('connection', (socket) => {
      const q = new TcpQueue(socket, { connect: (req, queue) => this.connect(req, queue), closed: (queue, why) => this.closed(queue, why) });
      this.queues.set(q, undefined);
    });
  }

  /** Starts listening; resolves once the port is bound. */
  static listen(options: TcpTargetOptions): Promise<TcpTarget> {
    const server = net.createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? NVME_TCP.PORT_NVME, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve(new TcpTarget(server, options));
      });
    });
  }

  /** The bound address and port. */
  get address(): { host: string; port: number } {
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** Live associations (fabric controllers). */
  get associations(): number {
    return this.controllers.size;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const q of this.queues.keys()) q.end();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private say(line: string): void {
    this.options.log?.(line);
  }

  private log(): Buffer {
    const { host, port } = this.address;
    return discoveryLog([...this.subsystems.keys()].map((subnqn) => ({ subnqn, address: host, port, portId: 1 })), 1);
  }

  private connect(req: ConnectRequest, queue: TcpQueue): ConnectAnswer {
    const hostnqnAt = NVMF.CONNECT_IATTR_DATA | NVMF.CONNECT_DATA_HOSTNQN;
    if (req.qid === 0) {
      const sub = req.subnqn === DISCOVERY_NQN ? this.discovery : this.subsystems.get(req.subnqn);
      if (!sub) {
        this.say(`fabric: ${queue.peer} asked for subsystem ${req.subnqn}, which is not exported`);
        return invalidParameters(NVMF.CONNECT_IATTR_DATA | NVMF.CONNECT_DATA_SUBNQN);
      }
      const allow = (sub as SubsystemOptions).allowHosts;
      if (allow && allow !== 'any' && !allow.includes(req.hostnqn)) {
        this.say(`fabric: refused host ${req.hostnqn} from ${queue.peer} on ${sub.nqn}: not on the allow-list`);
        return { status: { sct: NVME.SCT_COMMAND_SPECIFIC, sc: NVMF.SC_CONNECT_INVALID_HOST }, dw0: hostnqnAt };
      }
      // NVMe-oF §3.3: in the dynamic model the host asks for FFFFh and the target assigns.
      if (req.cntlid !== NVMF.CNTLID_DYNAMIC) return invalidParameters(NVMF.CONNECT_IATTR_DATA | NVMF.CONNECT_DATA_CNTLID);
      const cntlid = this.allocateCntlid();
      const ctrl = new FabricController(cntlid, req.hostnqn, sub, req.kato);
      this.controllers.set(cntlid, ctrl);
      this.queues.set(queue, ctrl);
      this.say(`fabric: host ${req.hostnqn} from ${queue.peer}: controller ${cntlid} of ${sub.nqn}, KATO ${req.kato} ms`);
      return { controller: ctrl };
    }
    const ctrl = this.controllers.get(req.cntlid);
    if (!ctrl || ctrl.hostnqn !== req.hostnqn || ctrl.subsystem.nqn !== req.subnqn) return invalidParameters(NVMF.CONNECT_IATTR_DATA | NVMF.CONNECT_DATA_CNTLID);
    if (ctrl.discovery || !ctrl.enabled || req.qid > ctrl.ioQueueLimit) return invalidParameters(NVMF.CONNECT_QID);
    this.queues.set(queue, ctrl);
    return { controller: ctrl };
  }

  private allocateCntlid(): number {
    // Controller IDs FFF0h..FFFFh are reserved (NVMe-oF §3.3).
    for (let i = 0; i < 0xffef; i++) {
      const id = this.nextCntlid;
      this.nextCntlid = (this.nextCntlid % 0xffef) + 1;
      if (!this.controllers.has(id)) return id;
    }
    throw new Error('every controller ID is in use');
  }

  private closed(queue: TcpQueue, why: string): void {
    const ctrl = this.queues.get(queue);
    this.queues.delete(queue);
    if (ctrl && queue.qid === 0) this.endAssociation(ctrl, `admin queue ${why}`);
  }

  private endAssociation(ctrl: FabricController, why: string): void {
    if (!this.controllers.delete(ctrl.cntlid)) return;
    ctrl.close();
    for (const [q, c] of this.queues) if (c === ctrl) q.end();
    this.say(`fabric: controller ${ctrl.cntlid} of ${ctrl.subsystem.nqn} (host ${ctrl.hostnqn}) ended: ${why}`);
  }

  private expireKeepAlive(): void {
    const now = Date.now();
    for (const ctrl of this.controllers.values()) {
      if (ctrl.kato > 0 && now - ctrl.lastSeen > ctrl.kato) this.endAssociation(ctrl, `no Keep Alive within KATO (${ctrl.kato} ms)`);
    }
  }
}
