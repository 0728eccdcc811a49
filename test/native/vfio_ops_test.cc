// The VFIO ioctl wrappers report errors as -errno (no /dev/vfio is needed: a non-VFIO fd
// answers ENOTTY, a closed one EBADF), and the region mapping checks its arguments (the
// DMA memory's size checks are the memory room's: memory_region_rejects_bad_sizes).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "check.h"
#include "addon/vfio/mapping.h"
#include "addon/vfio/vfio_ops.h"

using namespace phyr::vfio;

TEST(vfio_ops_report_errno_on_non_vfio_fds) {
  int fd = open("/dev/null", O_RDWR);
  CHECK(fd >= 0);
  ContainerCaps caps;
  CHECK_EQ(containerCaps(fd, &caps), -ENOTTY);
  IommuInfo ii;
  CHECK_EQ(iommuInfo(fd, &ii), -ENOTTY);
  uint32_t flags = 0;
  CHECK_EQ(groupStatus(fd, &flags), -ENOTTY);
  CHECK_EQ(groupDeviceFd(fd, "0000:00:10.0"), -ENOTTY);
  RegionInfo ri;
  CHECK_EQ(regionInfo(fd, 0, &ri), -ENOTTY);
  CHECK_EQ(setIrqEventfds(fd, 2, 0, {}), -ENOTTY);
  uint64_t unmapped = 0;
  CHECK_EQ(unmapDma(fd, 0, 4096, &unmapped), -ENOTTY);
  close(fd);
  CHECK_EQ(deviceReset(fd), -EBADF);
  CHECK_EQ(mapDma(fd, 0, 0, 4096, true, true), -EBADF);
}

TEST(vfio_region_mapping_checks_sizes) {
  int err = 0;
  int fd = open("/dev/null", O_RDWR);
  CHECK(mapRegion(fd, 1, 4096, &err) == nullptr);
  CHECK_EQ(err, EINVAL);
  err = 0;
  CHECK(mapRegion(fd, 0, 0, &err) == nullptr);
  CHECK_EQ(err, EINVAL);
  err = 0;
  CHECK(mapRegion(fd, 0, 4096 + 1, &err) == nullptr);
  CHECK_EQ(err, EINVAL);
  close(fd);
}
