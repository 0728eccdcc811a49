// See vfio_ops.h. The ioctl structures and capability chains follow linux/vfio.h.
#include "addon/vfio/vfio_ops.h"

#include <linux/vfio.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

namespace phyr::vfio {
namespace {

int check(int rc) { return rc < 0 ? -errno : rc; }

// Calls an info ioctl whose struct grows to hold capabilities: first with the fixed size,
// then again with the argsz the kernel asked for.
template <typename Info>
int infoWithCaps(int fd, unsigned long request, Info* base, std::vector<uint8_t>* buf) {
  buf->assign(sizeof(Info), 0);
  std::memcpy(buf->data(), base, sizeof(Info));
  reinterpret_cast<Info*>(buf->data())->argsz = sizeof(Info);
  if (ioctl(fd, request, buf->data()) < 0) return -errno;
  uint32_t need = reinterpret_cast<Info*>(buf->data())->argsz;
  if (need > sizeof(Info)) {
    if (need > (1u << 20)) return -EOVERFLOW;
    buf->assign(need, 0);
    std::memcpy(buf->data(), base, sizeof(Info));
    reinterpret_cast<Info*>(buf->data())->argsz = need;
    if (ioctl(fd, request, buf->data()) < 0) return -errno;
  }
  return 0;
}

// Walks a capability chain starting at `offset` (0 = none), calling visit(header).
template <typename Visit>
void walkCaps(const std::vector<uint8_t>& buf, uint32_t offset, Visit visit) {
  for (int hops = 0; offset != 0 && hops < 64; hops++) {
    if (offset + sizeof(vfio_info_cap_header) > buf.size()) return;
    auto* h = reinterpret_cast<const vfio_info_cap_header*>(buf.data() + offset);
    visit(h, buf.size() - offset);
    offset = h->next;
  }
}

}  // namespace

int containerCaps(int containerFd, ContainerCaps* out) {
  int v = ioctl(containerFd, VFIO_GET_API_VERSION);
  if (v < 0) return -errno;
  out->apiVersion = v;
  int t1 = ioctl(containerFd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU);
  int t2 = ioctl(containerFd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
  if (t1 < 0 || t2 < 0) return -errno;
  out->type1 = t1 > 0;
  out->type1v2 = t2 > 0;
  return 0;
}

int setIommu(int containerFd, int type) { return check(ioctl(containerFd, VFIO_SET_IOMMU, type)); }

int iommuInfo(int containerFd, IommuInfo* out) {
  vfio_iommu_type1_info base{};
  std::vector<uint8_t> buf;
  int rc = infoWithCaps(containerFd, VFIO_IOMMU_GET_INFO, &base, &buf);
  if (rc < 0) return rc;
  auto* info = reinterpret_cast<const vfio_iommu_type1_info*>(buf.data());
  out->pageSizes = (info->flags & VFIO_IOMMU_INFO_PGSIZES) ? info->iova_pgsizes : 0;
  out->ranges.clear();
  if (!(info->flags & VFIO_IOMMU_INFO_CAPS)) return 0;
  walkCaps(buf, info->cap_offset, [&](const vfio_info_cap_header* h, size_t room) {
    if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE && room >= sizeof(vfio_iommu_type1_info_cap_iova_range)) {
      auto* cap = reinterpret_cast<const vfio_iommu_type1_info_cap_iova_range*>(h);
      size_t fit = (room - sizeof(*cap)) / sizeof(vfio_iova_range);
      for (uint32_t i = 0; i < cap->nr_iovas && i < fit; i++) out->ranges.push_back({cap->iova_ranges[i].start, cap->iova_ranges[i].end});
    } else if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL && room >= sizeof(vfio_iommu_type1_info_dma_avail)) {
      out->dmaAvailable = reinterpret_cast<const vfio_iommu_type1_info_dma_avail*>(h)->avail;
    }
  });
  return 0;
}

int groupStatus(int groupFd, uint32_t* flags) {
  vfio_group_status st{};
  st.argsz = sizeof(st);
  if (ioctl(groupFd, VFIO_GROUP_GET_STATUS, &st) < 0) return -errno;
  *flags = st.flags;
  return 0;
}

int groupSetContainer(int groupFd, int containerFd) { return check(ioctl(groupFd, VFIO_GROUP_SET_CONTAINER, &containerFd)); }

int groupUnsetContainer(int groupFd) { return check(ioctl(groupFd, VFIO_GROUP_UNSET_CONTAINER)); }

int groupDeviceFd(int groupFd, const char* name) { return check(ioctl(groupFd, VFIO_GROUP_GET_DEVICE_FD, name)); }

int deviceInfo(int deviceFd, DeviceInfo* out) {
  vfio_device_info info{};
  info.argsz = sizeof(info);
  if (ioctl(deviceFd, VFIO_DEVICE_GET_INFO, &info) < 0) return -errno;
  out->flags = info.flags;
  out->numRegions = info.num_regions;
  out->numIrqs = info.num_irqs;
  return 0;
}

int regionInfo(int deviceFd, uint32_t index, RegionInfo* out) {
  vfio_region_info base{};
  base.index = index;
  std::vector<uint8_t> buf;
  int rc = infoWithCaps(deviceFd, VFIO_DEVICE_GET_REGION_INFO, &base, &buf);
  if (rc < 0) return rc;
  auto* info = reinterpret_cast<const vfio_region_info*>(buf.data());
  out->flags = info->flags;
  out->size = info->size;
  out->offset = info->offset;
  out->hasSparse = false;
  out->sparse.clear();
  out->msixMappable = false;
  if (!(info->flags & VFIO_REGION_INFO_FLAG_CAPS)) return 0;
  walkCaps(buf, info->cap_offset, [&](const vfio_info_cap_header* h, size_t room) {
    if (h->id == VFIO_REGION_INFO_CAP_SPARSE_MMAP && room >= sizeof(vfio_region_info_cap_sparse_mmap)) {
      auto* cap = reinterpret_cast<const vfio_region_info_cap_sparse_mmap*>(h);
      size_t fit = (room - sizeof(*cap)) / sizeof(vfio_region_sparse_mmap_area);
      out->hasSparse = true;
      for (uint32_t i = 0; i < cap->nr_areas && i < fit; i++) out->sparse.push_back({cap->areas[i].offset, cap->areas[i].size});
    } else if (h->id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
      out->msixMappable = true;
    }
  });
  return 0;
}

int irqInfo(int deviceFd, uint32_t index, IrqInfo* out) {
  vfio_irq_info info{};
  info.argsz = sizeof(info);
  info.index = index;
  if (ioctl(deviceFd, VFIO_DEVICE_GET_IRQ_INFO, &info) < 0) return -errno;
  out->flags = info.flags;
  out->count = info.count;
  return 0;
}

int deviceReset(int deviceFd) { return check(ioctl(deviceFd, VFIO_DEVICE_RESET)); }

int setIrqEventfds(int deviceFd, uint32_t index, uint32_t start, const std::vector<int32_t>& eventfds) {
  std::vector<uint8_t> buf(sizeof(vfio_irq_set) + eventfds.size() * sizeof(int32_t));
  auto* set = reinterpret_cast<vfio_irq_set*>(buf.data());
  set->argsz = static_cast<uint32_t>(buf.size());
  set->index = index;
  set->start = start;
  set->count = static_cast<uint32_t>(eventfds.size());
  // count 0 with DATA_NONE disables every vector of the index (linux/vfio.h).
  set->flags = VFIO_IRQ_SET_ACTION_TRIGGER | (eventfds.empty() ? VFIO_IRQ_SET_DATA_NONE : VFIO_IRQ_SET_DATA_EVENTFD);
  if (!eventfds.empty()) std::memcpy(set->data, eventfds.data(), eventfds.size() * sizeof(int32_t));
  return check(ioctl(deviceFd, VFIO_DEVICE_SET_IRQS, set));
}

int mapDma(int containerFd, uint64_t vaddr, uint64_t iova, uint64_t size, bool read, bool write) {
  vfio_iommu_type1_dma_map map{};
  map.argsz = sizeof(map);
  map.flags = (read ? VFIO_DMA_MAP_FLAG_READ : 0) | (write ? VFIO_DMA_MAP_FLAG_WRITE : 0);
  map.vaddr = vaddr;
  map.iova = iova;
  map.size = size;
  return check(ioctl(containerFd, VFIO_IOMMU_MAP_DMA, &map));
}

int unmapDma(int containerFd, uint64_t iova, uint64_t size, uint64_t* unmapped) {
  vfio_iommu_type1_dma_unmap unmap{};
  unmap.argsz = sizeof(unmap);
  unmap.iova = iova;
  unmap.size = size;
  if (ioctl(containerFd, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0) return -errno;
  *unmapped = unmap.size;
  return 0;
}

}  // namespace phyr::vfio
