// The controllers the VM tier boots with, and their fixed PCI addresses in the guest.
// One boot holds every configuration `phyr validate` must pass with 0 fail (issue 15):
// a CMB (target), two namespaces with different LBA sizes (peer), mdts=1 with one IO queue
// pair, a single MSI-X vector (msix_qsize=1) and a null backend; and a twin pair of
// identical controllers, one left to the kernel nvme driver and one bound to vfio-pci,
// for the nvme-cli differential test. Every controller on the root bus is its own IOMMU
// group (q35 with intel-iommu), so each can be opened by its own process.
import { controllerBdf } from '../../tools/vm/nvme-spec';

/** The twin pair's spec: identical but for the driver (and QEMU's serial, phyr-vm-<index>). */
const TWIN = 'size=64M';

/** `--nvme` specs, in slot order. The hotplug controller must stay the last slot. */
export const VM_TIER_CONTROLLERS = [
  'size=64M,cmb=16M', // target: data tests, own CMB
  'size=32M,ns=2,lbads=9:12,cmb=16M', // peer: second controller in the container, its CMB as peer memory
  'size=16M,mdts=1', // small MDTS: transfers split (the driver case holds it to the end)
  `${TWIN},driver=nvme`, // left to the kernel nvme driver: setup refusal, bound-to-nvme error, nvme-cli's twin
  TWIN, // the same controller bound to vfio-pci: phyr's twin
  'size=16M,mdts=1,qpairs=1', // validate: 8 KiB MDTS and one IO queue pair
  'size=16M,msix_qsize=1', // validate: one MSI-X vector
  'size=64M,backing=null', // validate: a device that keeps no data (null-co, reads zeros)
  'size=16M,hotplug', // behind its own PCIe root port: surprise removal under IO (the last case)
];

export const TARGET = controllerBdf(0);
export const PEER = controllerBdf(1);
export const SMALL_MDTS = controllerBdf(2);
export const KERNEL_OWNED = controllerBdf(3);
/** The twin bound to the kernel nvme driver (read with nvme-cli). */
export const TWIN_KERNEL = KERNEL_OWNED;
/** The twin bound to vfio-pci (read with `phyr nvme`). */
export const TWIN_VFIO = controllerBdf(4);
/** mdts=1 with max_ioqpairs=1. */
export const ONE_QUEUE_PAIR = controllerBdf(5);
/** msix_qsize=1: a single interrupt vector. */
export const ONE_VECTOR = controllerBdf(6);
/** null-co backing: writes are dropped, reads return zeros. */
export const NULL_BACKEND = controllerBdf(7);
const HOTPLUG_INDEX = VM_TIER_CONTROLLERS.length - 1;
/** The hot-unpluggable controller: the first (only) one behind a root port, so bus 1. */
export const HOTPLUG = '0000:01:00.0';
/** Its root port, in the slot the controller would have had on the root bus. */
export const HOTPLUG_PORT = controllerBdf(HOTPLUG_INDEX);
/** Its QEMU device id (device_del). */
export const HOTPLUG_ID = `nvme${HOTPLUG_INDEX}`;
/** Hugepages the guest reserves for the tier. */
export const VM_TIER_HUGEPAGES = 64;
