// What phyr can open, and what each one says about itself: the embedded controller and the
// vfio-bound controllers phyr can use now, each brought up to read Identify Controller and
// its namespaces' Identify Namespace data. `phyr nvme list` and `phyr list` read it.
import { open } from '../../targets/open';
import { DEFAULT_TARGET } from '../../targets';
import { listControllerStatus, type ControllerStatus } from '../../lib/sysfs/controllers';

/** One namespace of an opened controller. */
export interface ListedNamespace {
  nsid: number;
  /** LBA data size in bytes. */
  lbaSize: number;
  /** Metadata bytes per LBA of the format in use. */
  metadataSize: number;
  /** NSZE, NUSE (blocks). */
  blocks: number;
  used: number;
}

/** Identify data of one controller phyr opened (model, serial, firmware as the controller reports them, trailing spaces removed). */
export interface ListedController {
  target: string;
  model: string;
  serial: string;
  firmware: string;
  namespaces: ListedNamespace[];
}

/** A controller that could not be opened, and why. */
export interface UnreadableController {
  target: string;
  error: string;
}

/** Opens `target`, reads what `list` shows, closes it. */
export async function readController(target: string): Promise<ListedController> {
  const ctrl = await open(target);
  try {
    const id = ctrl.identify;
    return {
      target,
      model: id.mn,
      serial: id.sn,
      firmware: id.fr,
      namespaces: ctrl.namespaces().map((ns) => {
        const f = ns.identify.lbafs[ns.formatIndex] ?? { ms: 0, ds: 9, rp: 0 };
        return { nsid: ns.nsid, lbaSize: ns.lbaSize, metadataSize: f.ms, blocks: ns.identify.nsze, used: ns.identify.nuse };
      }),
    };
  } finally {
    await ctrl.close();
  }
}

/** The targets phyr can open now: the embedded controller first, then the usable vfio-bound ones. */
export function openableTargets(pci: readonly ControllerStatus[] = listControllerStatus()): string[] {
  return [DEFAULT_TARGET, ...pci.filter((c) => c.usable).map((c) => c.bdf)];
}

/** Reads every target; the ones that fail to open are reported with their error instead. */
export async function readControllers(targets: readonly string[]): Promise<{ read: ListedController[]; failed: UnreadableController[] }> {
  const read: ListedController[] = [];
  const failed: UnreadableController[] = [];
  for (const t of targets) {
    try {
      read.push(await readController(t));
    } catch (e) {
      failed.push({ target: t, error: (e as Error).message });
    }
  }
  return { read, failed };
}
