// Thin, checked wrappers over the VFIO legacy container/group/device ioctls
// (linux/vfio.h). Every function returns 0 (or a non-negative value) on success and
// -errno on failure, so the Node glue can turn failures into errors that say what to do.
// Core C++: no Node types here, so the native tests exercise the same code.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace phyr::vfio {

struct ContainerCaps {
  int apiVersion = -1;
  bool type1 = false;
  bool type1v2 = false;
};

struct IovaRange {
  uint64_t start;
  uint64_t end;  // inclusive
};

struct IommuInfo {
  uint64_t pageSizes = 0;  // bitmap of supported IOMMU page sizes
  std::vector<IovaRange> ranges;  // empty when the kernel reports no IOVA-range capability
  int64_t dmaAvailable = -1;      // mappings the container may still create, -1 = not reported
};

struct SparseArea {
  uint64_t offset;
  uint64_t size;
};

struct RegionInfo {
  uint32_t flags = 0;
  uint64_t size = 0;
  uint64_t offset = 0;  // file offset of the region in the device fd
  bool hasSparse = false;
  std::vector<SparseArea> sparse;  // mmap-able parts when hasSparse
  bool msixMappable = false;
};

struct DeviceInfo {
  uint32_t flags = 0;
  uint32_t numRegions = 0;
  uint32_t numIrqs = 0;
};

struct IrqInfo {
  uint32_t flags = 0;
  uint32_t count = 0;
};

// VFIO_GET_API_VERSION and VFIO_CHECK_EXTENSION for the type1 IOMMUs.
int containerCaps(int containerFd, ContainerCaps* out);
// VFIO_SET_IOMMU.
int setIommu(int containerFd, int type);
// VFIO_IOMMU_GET_INFO, following the capability chain (IOVA ranges, DMA available).
int iommuInfo(int containerFd, IommuInfo* out);
// VFIO_GROUP_GET_STATUS: flags VFIO_GROUP_FLAGS_*.
int groupStatus(int groupFd, uint32_t* flags);
// VFIO_GROUP_SET_CONTAINER / VFIO_GROUP_UNSET_CONTAINER.
int groupSetContainer(int groupFd, int containerFd);
int groupUnsetContainer(int groupFd);
// VFIO_GROUP_GET_DEVICE_FD: returns the device fd.
int groupDeviceFd(int groupFd, const char* name);
// VFIO_DEVICE_GET_INFO / GET_REGION_INFO (with sparse-mmap caps) / GET_IRQ_INFO.
int deviceInfo(int deviceFd, DeviceInfo* out);
int regionInfo(int deviceFd, uint32_t index, RegionInfo* out);
int irqInfo(int deviceFd, uint32_t index, IrqInfo* out);
// VFIO_DEVICE_RESET.
int deviceReset(int deviceFd);
// VFIO_DEVICE_SET_IRQS: eventfds[i] triggers for vector start+i; an empty list disables
// every vector of the index.
int setIrqEventfds(int deviceFd, uint32_t index, uint32_t start, const std::vector<int32_t>& eventfds);
// VFIO_IOMMU_MAP_DMA / UNMAP_DMA (type1: page-aligned vaddr, iova and size).
int mapDma(int containerFd, uint64_t vaddr, uint64_t iova, uint64_t size, bool read, bool write);
int unmapDma(int containerFd, uint64_t iova, uint64_t size, uint64_t* unmapped);

}  // namespace phyr::vfio
