// The QEMU testbed: boot a guest with real VFIO and QEMU's NVMe controllers, run a command.
export { runVm, type VmOptions, type VmResult } from './launch';
export { parseNvmeSpec, controllerBdf, type NvmeControllerSpec, type PlacedController } from './nvme-spec';
export { findPrereqs, findKernel, listKernels, APT_INSTALL, VmPrereqError, type KernelCandidate, type KernelChoice } from './prereqs';
