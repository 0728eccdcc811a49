// What a fabric target needs of the controller behind it, and that interface over phyr's
// driver (drivers/nvme): identify data as the controller reports it, and the IO commands
// of the namespaces it exports. The target never touches the controller otherwise.
import { NVME, adminWithData, identifySqe, type Controller, type Namespace } from '../drivers/nvme';
import type { DmaPool } from '../lib/dma';

/** One exported namespace. Reads return the data; a failed command rejects. */
export interface FabricNamespace {
  readonly nsid: number;
  readonly lbaSize: number;
  readonly blocks: number;
  /** Identify Namespace data (CNS 00h), 4096 bytes, as the backing controller returns it. */
  readonly identify: Buffer;
  /** Namespace Identification Descriptors (CNS 03h), 4096 bytes. */
  readonly descriptors: Buffer;
  /** Reads `count` blocks; into `into` (pool memory of the backend, no copy) when given. */
  read(lba: number, count: number, into?: Uint8Array): Promise<Buffer>;
  /** `data` may be a view of the backend's pool memory (no mapping, no copy). */
  write(lba: number, data: Uint8Array): Promise<void>;
  flush(): Promise<void>;
  writeZeroes(lba: number, count: number): Promise<void>;
  deallocate(lba: number, count: number): Promise<void>;
}

/** The controller behind a fabric subsystem. */
export interface FabricBackend {
  /** Identify Controller data (CNS 01h), 4096 bytes, as the backing controller returns it. */
  readonly identify: Buffer;
  readonly namespaces: ReadonlyMap<number, FabricNamespace>;
  /** The backing controller's DMA pool: IO queues take their payload buffers from it. */
  readonly pool?: DmaPool;
}

const IDENTIFY_BYTES = 4096;

async function identifyRaw(ctrl: Controller, cns: number, nsid: number): Promise<Buffer> {
  const { data } = await adminWithData(ctrl, identifySqe(cns, nsid), IDENTIFY_BYTES);
  return Buffer.from(data);
}

function namespaceOf(ns: Namespace, identify: Buffer, descriptors: Buffer): FabricNamespace {
  return {
    nsid: ns.nsid,
    lbaSize: ns.lbaSize,
    blocks: ns.blocks,
    identify,
    descriptors,
    async read(lba, count, into) {
      if (into) {
        await ns.read(lba, into);
        return Buffer.from(into.buffer, into.byteOffset, into.byteLength);
      }
      const buf = Buffer.alloc(count * ns.lbaSize);
      await ns.read(lba, buf);
      return buf;
    },
    write: (lba, data) => ns.write(lba, data),
    flush: () => ns.flush(),
    writeZeroes: (lba, count) => ns.writeZeroes(lba, count),
    deallocate: (lba, count) => ns.deallocate(lba, count),
  };
}

/** The backend over an open phyr controller: every active namespace is exported. */
export async function controllerBackend(ctrl: Controller): Promise<FabricBackend> {
  const identify = await identifyRaw(ctrl, NVME.CNS_CONTROLLER, 0);
  const namespaces = new Map<number, FabricNamespace>();
  for (const ns of ctrl.namespaces()) {
    const id = await identifyRaw(ctrl, NVME.CNS_NAMESPACE, ns.nsid);
    // Descriptors are optional before NVMe 1.3: a controller that refuses the CNS has none.
    const desc = await identifyRaw(ctrl, NVME.CNS_NS_DESCRIPTORS, ns.nsid).catch(() => Buffer.alloc(IDENTIFY_BYTES));
    namespaces.set(ns.nsid, namespaceOf(ns, id, desc));
  }
  return { identify, namespaces, pool: ctrl.pool };
}
