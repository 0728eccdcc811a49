// The QEMU testbed: boot a guest with real VFIO and QEMU's NVMe controllers, run a command.
export { runVm, type VmOptions, type VmResult } from './launch';
export { parseNvmeSpec, controllerBdf, type NvmeControllerSpec, type PlacedController } from './nvme-spec';
export { findPrereqs, APT_INSTALL, VmPrereqError } from './prereqs';
