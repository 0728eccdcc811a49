// The controllers the VM tier boots with, and their fixed PCI addresses in the guest.
import { controllerBdf } from '../../tools/vm/nvme-spec';

/** `--nvme` specs, in slot order. */
export const VM_TIER_CONTROLLERS = [
  'size=64M,cmb=16M', // target: data tests, own CMB
  'size=32M,ns=2,lbads=9:12,cmb=16M', // peer: second controller in the container, its CMB as peer memory
  'size=16M,mdts=1', // small MDTS: transfers split
  'size=64M,driver=nvme', // left to the kernel nvme driver: setup refusal, bound-to-nvme error
  'size=16M,hotplug', // behind its own PCIe root port: surprise removal under IO (the last case)
];

export const TARGET = controllerBdf(0);
export const PEER = controllerBdf(1);
export const SMALL_MDTS = controllerBdf(2);
export const KERNEL_OWNED = controllerBdf(3);
/** The hot-unpluggable controller: the first (only) one behind a root port, so bus 1. */
export const HOTPLUG = '0000:01:00.0';
/** Its root port, in the slot the controller would have had on the root bus. */
export const HOTPLUG_PORT = controllerBdf(4);
/** Its QEMU device id (device_del). */
export const HOTPLUG_ID = 'nvme4';
/** Hugepages the guest reserves for the tier. */
export const VM_TIER_HUGEPAGES = 64;
