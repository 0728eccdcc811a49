// Node glue for the VFIO room: validates every argument from JavaScript, calls the
// checked ioctl wrappers (vfio_ops.h) and mappings (mapping.h), and turns failures into
// JS errors carrying `errno`, `code` and `syscall` so lib/vfio can say what to do.
#include <napi.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>
#include <unordered_map>

#include "addon/eventfd/eventfd_ops.h"
#include "addon/registry.h"
#include "addon/memory/keep_alive_napi.h"
#include "addon/napi_args.h"
#include "addon/vfio/mapping.h"
#include "addon/vfio/vfio_ops.h"

namespace phyr::vfio {
namespace {

using args::kMaxSafe;  // 2^53 - 1: IOVAs and sizes fit a JS number
constexpr uint64_t kPage = 4096;

const char* errnoName(int e) {
  switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case ENOMEM: return "ENOMEM";
    case ENOSPC: return "ENOSPC";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case ENOTTY: return "ENOTTY";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case EAGAIN: return "EAGAIN";
    default: return "EUNKNOWN";
  }
}

Napi::Value throwErrno(Napi::Env env, const std::string& syscall, int err) {
  Napi::Error e = Napi::Error::New(env, syscall + ": " + std::strerror(err));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, errnoName(err)));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool fdArg(const Napi::CallbackInfo& info, size_t i, const char* name, int* fd) { return args::intArg(info, i, name, fd, 0, INT32_MAX); }

// ---- descriptors this layer opened ----
// Every fd a function here takes must be one this layer handed out, of the right kind:
// a stray number (stdin, libuv's epoll or eventfd, a file of the application) must never
// be closed, mmap'd, read, written or sent an ioctl. Touched on the JS thread only.
enum class FdKind : uint8_t { Node, Device, Eventfd };
const char* kindName(FdKind k) {
  switch (k) {
    case FdKind::Node: return "a VFIO node from openPath";
    case FdKind::Device: return "a device fd from groupDeviceFd";
    case FdKind::Eventfd: return "an eventfd from eventfd()";
  }
  return "?";
}
std::unordered_map<int, FdKind>& ownedFds() {
  static std::unordered_map<int, FdKind> fds;
  return fds;
}

// Checks, after the argument shapes, that `fd` was opened here and is one of `kinds`.
bool ownedFd(const Napi::CallbackInfo& info, const char* name, int fd, std::initializer_list<FdKind> kinds) {
  auto it = ownedFds().find(fd);
  std::string want;
  for (FdKind k : kinds) {
    if (it != ownedFds().end() && it->second == k) return true;
    want += (want.empty() ? "" : " or ") + std::string(kindName(k));
  }
  std::string got = it == ownedFds().end() ? "not a descriptor the VFIO layer opened" : std::string("is ") + kindName(it->second);
  Napi::Error e = Napi::Error::New(info.Env(), std::string(name) + " " + std::to_string(fd) + " " +
                                                   (it == ownedFds().end() ? "is " : "") + got + "; expected " + want);
  e.Set("code", Napi::String::New(info.Env(), "EBADF"));
  e.Set("errno", Napi::Number::New(info.Env(), EBADF));
  e.ThrowAsJavaScriptException();
  return false;
}
constexpr std::initializer_list<FdKind> kNodeOrDevice = {FdKind::Node, FdKind::Device};

// ---- mappings handed out as external ArrayBuffers ----

struct Mapping {
  void* addr;
  size_t size;
  bool live;
};
std::unordered_map<void*, Mapping*>& liveMappings() {
  static std::unordered_map<void*, Mapping*> m;
  return m;
}

Napi::Value externalBuffer(Napi::Env env, void* addr, size_t size) {
  auto* m = new Mapping{addr, size, true};
  liveMappings()[addr] = m;
  return Napi::ArrayBuffer::New(
      env, addr, size,
      [](Napi::Env, void*, Mapping* m) {
        if (m->live) {  // collected without unmapBuffer: unmap now
          unmap(m->addr, m->size);
          liveMappings().erase(m->addr);
        }
        delete m;
      },
      m);
}

Napi::Value OpenPath(const Napi::CallbackInfo& info) {
  std::string path;
  if (!args::stringArg(info, 0, "path", &path)) return info.Env().Undefined();
  if (path.empty() || path.find('\0') != std::string::npos)  // open() would stop at a NUL
    return args::rangeError(info.Env(), "path must be a non-empty string without NUL characters"), info.Env().Undefined();
  // VFIO nodes (/dev/vfio/vfio, /dev/vfio/N, /dev/vfio/devices/*) are character devices;
  // anything else is refused before it is opened (a FIFO would block, a file is no node).
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return throwErrno(info.Env(), "open " + path, errno);
  if (!S_ISCHR(st.st_mode)) return throwErrno(info.Env(), "open " + path + " (not a character device, so not a VFIO node)", ENODEV);
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return throwErrno(info.Env(), "open " + path, errno);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  ownedFds()[fd] = FdKind::Node;
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int fd;
  if (!fdArg(info, 0, "fd", &fd) || !ownedFd(info, "fd", fd, {FdKind::Node, FdKind::Device, FdKind::Eventfd}))
    return info.Env().Undefined();
  ownedFds().erase(fd);
  eventfd::disown(fd);
  if (close(fd) < 0) return throwErrno(info.Env(), "close", errno);
  dmaKeepAlives().dropContainer(fd);  // a closed container has unmapped all its DMA
  return info.Env().Undefined();
}

Napi::Value ContainerCapsJs(const Napi::CallbackInfo& info) {
  int fd;
  if (!fdArg(info, 0, "containerFd", &fd) || !ownedFd(info, "containerFd", fd, kNodeOrDevice)) return info.Env().Undefined();
  ContainerCaps caps;
  if (int rc = containerCaps(fd, &caps); rc < 0) return throwErrno(info.Env(), "ioctl(VFIO_GET_API_VERSION/VFIO_CHECK_EXTENSION)", -rc);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("apiVersion", caps.apiVersion);
  o.Set("type1", caps.type1);
  o.Set("type1v2", caps.type1v2);
  return o;
}

Napi::Value SetIommuJs(const Napi::CallbackInfo& info) {
  int fd;
  double type;
  if (!fdArg(info, 0, "containerFd", &fd) || !args::integerArg(info, 1, "type", 1, 1000, &type) || !ownedFd(info, "containerFd", fd, kNodeOrDevice))
    return info.Env().Undefined();
  if (int rc = setIommu(fd, static_cast<int>(type)); rc < 0) return throwErrno(info.Env(), "ioctl(VFIO_SET_IOMMU)", -rc);
  return info.Env().Undefined();
}

double clampSafe(uint64_t v) { return v > static_cast<uint64_t>(kMaxSafe) ? kMaxSafe : static_cast<double>(v); }

Napi::Value IommuInfoJs(const Napi::CallbackInfo& info) {
  int fd;
  if (!fdArg(info, 0, "containerFd", &fd) || !ownedFd(info, "containerFd", fd, kNodeOrDevice)) return info.Env().Undefined();
  IommuInfo ii;
  if (int rc = iommuInfo(fd, &ii); rc < 0) return throwErrno(info.Env(), "ioctl(VFIO_IOMMU_GET_INFO)", -rc);
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  // The smallest IOMMU page size: every map must be aligned to it.
  o.Set("minPageSize", ii.pageSizes ? clampSafe(ii.pageSizes & (~ii.pageSizes + 1)) : 0.0);
  Napi::Array ranges = Napi::Array::New(env, ii.ranges.size());
  for (size_t i = 0; i < ii.ranges.size(); i++) {
    Napi::Object r = Napi::Object::New(env);
    // Ranges beyond 2^53 are clipped: phyr keeps IOVAs representable as JS numbers.
    r.Set("start", clampSafe(ii.ranges[i].start));
    r.Set("end", clampSafe(ii.ranges[i].end));
    ranges.Set(static_cast<uint32_t>(i), r);
  }
  o.Set("ranges", ranges);
  o.Set("dmaAvailable", static_cast<double>(ii.dmaAvailable));
  return o;
}

Napi::Value GroupStatusJs(const Napi::CallbackInfo& info) {
  int fd;
  if (!fdArg(info, 0, "groupFd", &fd) || !ownedFd(info, "groupFd", fd, kNodeOrDevice)) return info.Env().Undefined();
  uint32_t flags;
  if (int rc = groupStatus(fd, &flags); rc < 0) return throwErrno(info.Env(), "ioctl(VFIO_GROUP_GET_STATUS)", -rc);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("viable", (flags & 1u) != 0);        // VFIO_GROUP_FLAGS_VIABLE
  o.Set("containerSet", (flags & 2u) != 0);  // VFIO_GROUP_FLAGS_CONTAINER_SET
  return o;
}

Napi::Value GroupSetContainerJs(const Napi::CallbackInfo& info) {
  int g, c;
  if (!fdArg(info, 0, "groupFd", &g) || !fdArg(info, 1, "containerFd", &c) || !ownedFd(info, "groupFd", g, kNodeOrDevice) ||
      !ownedFd(info, "containerFd", c, kNodeOrDevice))
    return info.Env().Undefined();
  if (int rc = groupSetContainer(g, c); rc < 0) return throwErrno(info.Env(), "ioctl(VFIO_GROUP_SET_CONTAINER)", -rc);
  return info.Env().Undefined();
}

Napi::Value GroupUnsetContainerJs(const Napi::CallbackInfo& info) {
  int g;
  if (!fdArg(info, 0, "groupFd", &g) || !ownedFd(info, "groupFd", g, kNodeOrDevice)) return info.Env().Undefined();
  if (int rc = groupUnsetContainer(g); rc < 0) return throwErrno(info.Env(), "ioctl(VFIO_GROUP_UNSET_CONTAINER)", -rc);
  return info.Env().Undefined();
}

Napi::Value GroupDeviceFdJs(const Napi::CallbackInfo& info) {
  int g;
  if (!fdArg(info, 0, "groupFd", &g)) return info.Env().Undefined();
  std::string name;
  if (!args::stringArg(info, 1, "device name", &name)) return info.Env().Undefined();
  if (name.empty() || name.size() > 64 || name.find('\0') != std::string::npos)
    return args::rangeError(info.Env(), "device name must be 1 to 64 characters, without NUL"), info.Env().Undefined();
  if (!ownedFd(info, "groupFd", g, kNodeOrDevice)) return info.Env().Undefined();
  int fd = groupDeviceFd(g, name.c_str());
  if (fd < 0) return throwErrno(info.Env(), "ioctl(VFIO_GROUP_GET_DEVICE_FD, " + name + ")", -fd);
  ownedFds()[fd] = FdKind::Device;
  return Napi::Number::New(info.Env(), fd);
}

// adoptDeviceFd(fd) -> a new fd: a duplicate of a VFIO device fd another process sent
// (a served client gets the daemon's over SCM_RIGHTS, docs/SERVE.md), registered here as a
// device fd so mmapRegion accepts it. The received fd itself stays its owner's to close.
// Accepted only when the kernel says it is one: the legacy group API's anonymous inode
// "[vfio-device]" and VFIO_DEVICE_GET_INFO answering with the PCI flag.
Napi::Value AdoptDeviceFdJs(const Napi::CallbackInfo& info) {
  int fd;
  if (!fdArg(info, 0, "fd", &fd)) return info.Env().Undefined();
  char link[64] = {0};
  std::string proc = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = readlink(proc.c_str(), link, sizeof(link) - 1);
  if (n < 0) return throwErrno(info.Env(), "readlink(" + proc + ")", errno);
  if (std::string(link, static_cast<size_t>(n)) != "anon_inode:[vfio-device]") {
    return throwErrno(info.Env(), "adopt fd " + std::to_string(fd) + " (it is " + std::string(link, static_cast<size_t>(n)) + ", not a VFIO device fd)", EBADF);
  }
  DeviceInfo di;
  if (int rc = deviceInfo(fd, &di); rc < 0) return throwErrno(info.Env(), "ioctl(VFIO_DEVICE_GET_INFO)", -rc);
  if ((di.flags & 2u) == 0) return throwErrno(info.Env(), "adopt fd " + std::to_string(fd) + " (a VFIO device, but not a PCI one)", ENODEV);
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (dup < 0) return throwErrno(info.Env(), "fcntl(F_DUPFD_CLOEXEC)", errno);
  ownedFds()[dup] = FdKind::Device;
  return Napi::Number::New(info.Env(), dup);
}

Napi::Value DeviceInfoJs(const Napi::CallbackInfo& info) {
  int fd;
  if (!fdArg(info, 0, "deviceFd", &fd) || !ownedFd(info, "deviceFd", fd, kNodeOrDevice)) return info.Env().Undefined();
  DeviceInfo di;
  if (int rc = deviceInfo(fd, &di); rc < 0) return throwErrno(info.Env(), "ioctl(VFIO_DEVICE_GET_INFO)", -rc);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("flags", di.flags);
  o.Set("numRegions", di.numRegions);
  o.Set("numIrqs", di.numIrqs);
  o.Set("canReset", (di.flags & 1u) != 0);  // VFIO_DEVICE_FLAGS_RESET
  o.Set("isPci", (di.flags & 2u) != 0);     // VFIO_DEVICE_FLAGS_PCI
  return o;
}

Napi::Value RegionInfoJs(const Napi::CallbackInfo& info) {
  int fd;
  double index;
  if (!fdArg(info, 0, "deviceFd", &fd) || !args::integerArg(info, 1, "region index", 0, 255, &index) || !ownedFd(info, "deviceFd", fd, kNodeOrDevice))
    return info.Env().Undefined();
  RegionInfo ri;
  if (int rc = regionInfo(fd, static_cast<uint32_t>(index), &ri); rc < 0) return throwErrno(info.Env(), "ioctl(VFIO_DEVICE_GET_REGION_INFO)", -rc);
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("index", index);
  o.Set("flags", ri.flags);
  o.Set("readable", (ri.flags & 1u) != 0);
  o.Set("writable", (ri.flags & 2u) != 0);
  o.Set("mmap", (ri.flags & 4u) != 0);
  o.Set("size", clampSafe(ri.size));
  o.Set("offset", clampSafe(ri.offset));
  o.Set("msixMappable", ri.msixMappable);
  if (ri.hasSparse) {
    Napi::Array areas = Napi::Array::New(env, ri.sparse.size());
    for (size_t i = 0; i < ri.sparse.size(); i++) {
      Napi::Object a = Napi::Object::New(env);
      a.Set("offset", clampSafe(ri.sparse[i].offset));
      a.Set("size", clampSafe(ri.sparse[i].size));
      areas.Set(static_cast<uint32_t>(i), a);
    }
    o.Set("sparse", areas);
  } else {
    o.Set("sparse", env.Null());
  }
  return o;
}

Napi::Value IrqInfoJs(const Napi::CallbackInfo& info) {
  int fd;
  double index;
  if (!fdArg(info, 0, "deviceFd", &fd) || !args::integerArg(info, 1, "irq index", 0, 255, &index) || !ownedFd(info, "deviceFd", fd, kNodeOrDevice))
    return info.Env().Undefined();
  IrqInfo ii;
  if (int rc = irqInfo(fd, static_cast<uint32_t>(index), &ii); rc < 0) return throwErrno(info.Env(), "ioctl(VFIO_DEVICE_GET_IRQ_INFO)", -rc);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("flags", ii.flags);
  o.Set("count", ii.count);
  return o;
}

Napi::Value ResetJs(const Napi::CallbackInfo& info) {
  int fd;
  if (!fdArg(info, 0, "deviceFd", &fd) || !ownedFd(info, "deviceFd", fd, kNodeOrDevice)) return info.Env().Undefined();
  if (int rc = deviceReset(fd); rc < 0) return throwErrno(info.Env(), "ioctl(VFIO_DEVICE_RESET)", -rc);
  return info.Env().Undefined();
}

Napi::Value SetIrqEventfdsJs(const Napi::CallbackInfo& info) {
  int fd;
  double index, start;
  if (!fdArg(info, 0, "deviceFd", &fd) || !args::integerArg(info, 1, "irq index", 0, 255, &index) || !args::integerArg(info, 2, "start vector", 0, 2047, &start)) {
    return info.Env().Undefined();
  }
  if (info.Length() < 4 || !info[3].IsArray()) return args::typeError(info.Env(), "eventfds must be an array of file descriptors"), info.Env().Undefined();
  Napi::Array arr = info[3].As<Napi::Array>();
  if (arr.Length() > 2048 || start + arr.Length() > 2048) return args::rangeError(info.Env(), "at most 2048 vectors"), info.Env().Undefined();
  std::vector<int32_t> fds;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : -2;
    // -1 leaves a vector unwired (linux/vfio.h: "fd of -1 ... de-assigns").
    if (d != std::floor(d) || d < -1 || d > 2147483647.0) return args::rangeError(info.Env(), "eventfds[" + std::to_string(i) + "] is not a file descriptor"), info.Env().Undefined();
    fds.push_back(static_cast<int32_t>(d));
  }
  if (!ownedFd(info, "deviceFd", fd, kNodeOrDevice)) return info.Env().Undefined();
  if (int rc = setIrqEventfds(fd, static_cast<uint32_t>(index), static_cast<uint32_t>(start), fds); rc < 0) {
    return throwErrno(info.Env(), "ioctl(VFIO_DEVICE_SET_IRQS)", -rc);
  }
  return info.Env().Undefined();
}

// (containerFd, memory: ArrayBuffer, offset, length, iova, read, write)
Napi::Value MapDmaJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  double offset, length, iova;
  bool rd, wr;
  if (!fdArg(info, 0, "containerFd", &fd)) return env.Undefined();
  Napi::ArrayBuffer mem;
  if (!args::arrayBufferArg(info, 1, "memory", &mem)) return env.Undefined();
  double cap = static_cast<double>(mem.ByteLength());
  if (!args::integerArg(info, 2, "offset", 0, cap, &offset) || !args::integerArg(info, 3, "length", 1, cap - offset, &length) ||
      !args::integerArg(info, 4, "iova", 0, kMaxSafe, &iova) || !args::boolArg(info, 5, "read", &rd) || !args::boolArg(info, 6, "write", &wr)) {
    return env.Undefined();
  }
  if (!rd && !wr) return args::rangeError(env, "a DMA mapping must allow read or write"), env.Undefined();
  uint64_t vaddr = reinterpret_cast<uint64_t>(mem.Data()) + static_cast<uint64_t>(offset);
  uint64_t io = static_cast<uint64_t>(iova);
  if ((vaddr & (kPage - 1)) != (io & (kPage - 1))) {
    return args::rangeError(env, "the memory address and the IOVA must have the same offset within a 4 KiB page"), env.Undefined();
  }
  // VFIO type1 maps whole pages: widen to the pages covering [offset, offset+length).
  uint64_t in = vaddr & (kPage - 1);
  uint64_t size = (in + static_cast<uint64_t>(length) + kPage - 1) & ~(kPage - 1);
  if (io - in + size - 1 > static_cast<uint64_t>(kMaxSafe)) return args::rangeError(env, "iova + length exceeds 2^53"), env.Undefined();
  // The mapping owns the memory itself (the backing store), so a transfer or detach of
  // the ArrayBuffer cannot free it while the device may write there (see mapping.h).
  std::shared_ptr<void> keep = memory::backingStoreKeepAlive(mem);
  if (!keep) return args::detachedError(env, "memory"), env.Undefined();
  if (int rc = mapDma(fd, vaddr - in, io - in, size, rd, wr); rc < 0) return throwErrno(env, "ioctl(VFIO_IOMMU_MAP_DMA)", -rc);
  dmaKeepAlives().add(fd, io - in, size, std::move(keep));
  return Napi::Number::New(env, static_cast<double>(size));
}

Napi::Value UnmapDmaJs(const Napi::CallbackInfo& info) {
  int fd;
  double iova, length;
  if (!fdArg(info, 0, "containerFd", &fd) || !args::integerArg(info, 1, "iova", 0, kMaxSafe, &iova) || !args::integerArg(info, 2, "length", 1, kMaxSafe, &length)) {
    return info.Env().Undefined();
  }
  uint64_t io = static_cast<uint64_t>(iova);
  uint64_t in = io & (kPage - 1);
  uint64_t size = (in + static_cast<uint64_t>(length) + kPage - 1) & ~(kPage - 1);
  uint64_t unmapped = 0;
  if (int rc = unmapDma(fd, io - in, size, &unmapped); rc < 0) return throwErrno(info.Env(), "ioctl(VFIO_IOMMU_UNMAP_DMA)", -rc);
  dmaKeepAlives().dropRange(fd, io - in, size);  // the device can no longer reach that memory
  return Napi::Number::New(info.Env(), static_cast<double>(unmapped));
}

Napi::Value MmapRegionJs(const Napi::CallbackInfo& info) {
  int fd;
  double offset, size;
  if (!fdArg(info, 0, "deviceFd", &fd) || !args::integerArg(info, 1, "offset", 0, kMaxSafe, &offset) || !args::integerArg(info, 2, "size", 1, 1ull << 40, &size)) {
    return info.Env().Undefined();
  }
  // Only a VFIO device fd: the kernel bounds its mmap by the region. mmap of an ordinary
  // file past its end would hand out pages that SIGBUS when touched.
  if (!ownedFd(info, "deviceFd", fd, {FdKind::Device})) return info.Env().Undefined();
  int err = 0;
  void* p = mapRegion(fd, static_cast<uint64_t>(offset), static_cast<size_t>(size), &err);
  if (!p) return throwErrno(info.Env(), "mmap(device region)", err);
  return externalBuffer(info.Env(), p, static_cast<size_t>(size));
}

// Unmaps a buffer made by mmapRegion now and detaches it, so JavaScript can
// never touch the memory again.
Napi::Value UnmapBufferJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::ArrayBuffer ab;
  if (!args::arrayBufferArg(info, 0, "buffer", &ab)) return env.Undefined();
  if (ab.IsDetached()) return env.Undefined();
  auto it = liveMappings().find(ab.Data());
  if (it == liveMappings().end() || it->second->size != ab.ByteLength()) {
    return args::typeError(env, "not a mapping made by the VFIO layer"), env.Undefined();
  }
  // Memory an IOMMU mapping still owns (a dmaMap keep-alive) must not be unmapped under
  // the device: the owners are this ArrayBuffer, the reference taken here, and mappings.
  if (memory::backingStoreKeepAlive(ab).use_count() > 2) {
    return args::typeError(env, "the memory is still DMA-mapped: dmaUnmap it before unmapping it"), env.Undefined();
  }
  Mapping* m = it->second;
  liveMappings().erase(it);
  m->live = false;  // the finalizer, whenever it runs, only frees the record
  ab.Detach();
  if (int rc = unmap(m->addr, m->size); rc < 0) return throwErrno(env, "munmap", -rc);
  return env.Undefined();
}

// (deviceFd, regionOffset, offset, size) -> value; config space through pread.
Napi::Value ConfigReadJs(const Napi::CallbackInfo& info) {
  int fd;
  double base, off, size;
  if (!fdArg(info, 0, "deviceFd", &fd) || !args::integerArg(info, 1, "config region offset", 0, kMaxSafe, &base) || !args::integerArg(info, 2, "offset", 0, 4095, &off) ||
      !args::integerArg(info, 3, "size", 1, 4, &size)) {
    return info.Env().Undefined();
  }
  if (size == 3 || static_cast<uint64_t>(off) % static_cast<uint64_t>(size) != 0) return args::rangeError(info.Env(), "config access must be 1, 2 or 4 bytes, naturally aligned"), info.Env().Undefined();
  if (!ownedFd(info, "deviceFd", fd, {FdKind::Device})) return info.Env().Undefined();  // never pread a stranger
  uint32_t v = 0;
  ssize_t n = pread(fd, &v, static_cast<size_t>(size), static_cast<off_t>(base + off));
  if (n != static_cast<ssize_t>(size)) return throwErrno(info.Env(), "pread(config space)", n < 0 ? errno : EIO);
  return Napi::Number::New(info.Env(), v);
}

Napi::Value ConfigWriteJs(const Napi::CallbackInfo& info) {
  int fd;
  double base, off, size, value;
  if (!fdArg(info, 0, "deviceFd", &fd) || !args::integerArg(info, 1, "config region offset", 0, kMaxSafe, &base) || !args::integerArg(info, 2, "offset", 0, 4095, &off) ||
      !args::integerArg(info, 3, "size", 1, 4, &size)) {
    return info.Env().Undefined();
  }
  if (size == 3 || static_cast<uint64_t>(off) % static_cast<uint64_t>(size) != 0) return args::rangeError(info.Env(), "config access must be 1, 2 or 4 bytes, naturally aligned"), info.Env().Undefined();
  if (!args::integerArg(info, 4, "value", 0, std::ldexp(1.0, 8 * static_cast<int>(size)) - 1, &value)) return info.Env().Undefined();
  if (!ownedFd(info, "deviceFd", fd, {FdKind::Device})) return info.Env().Undefined();  // never pwrite a stranger
  uint32_t v = static_cast<uint32_t>(value);
  ssize_t n = pwrite(fd, &v, static_cast<size_t>(size), static_cast<off_t>(base + off));
  if (n != static_cast<ssize_t>(size)) return throwErrno(info.Env(), "pwrite(config space)", n < 0 ? errno : EIO);
  return info.Env().Undefined();
}

Napi::Value EventfdJs(const Napi::CallbackInfo& info) {
  int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) return throwErrno(info.Env(), "eventfd", errno);
  ownedFds()[fd] = FdKind::Eventfd;
  eventfd::own(fd, eventfd::Owner::Vfio);  // watchable; closed by this layer's closeFd
  return Napi::Number::New(info.Env(), fd);
}

// Reads and clears an eventfd's counter without blocking: 0 when nothing was signalled.
Napi::Value ReadEventfdJs(const Napi::CallbackInfo& info) {
  int fd;
  if (!fdArg(info, 0, "fd", &fd)) return info.Env().Undefined();
  // Any eventfd the addon made (a read of another descriptor could block or eat its data).
  if (!eventfd::owned(fd) || !eventfd::isEventfd(fd)) return ownedFd(info, "fd", fd, {FdKind::Eventfd}), info.Env().Undefined();
  uint64_t count = 0;
  ssize_t n = read(fd, &count, sizeof(count));
  if (n < 0 && errno == EAGAIN) return Napi::Number::New(info.Env(), 0);
  if (n != sizeof(count)) return throwErrno(info.Env(), "read(eventfd)", n < 0 ? errno : EIO);
  return Napi::Number::New(info.Env(), static_cast<double>(count));
}

void init(Napi::Env env, Napi::Object exports) {
  Napi::Object o = Napi::Object::New(env);
  auto add = [&](const char* name, Napi::Value (*fn)(const Napi::CallbackInfo&)) { o.Set(name, Napi::Function::New(env, fn, name)); };
  add("openPath", OpenPath);
  add("closeFd", CloseFd);
  add("containerCaps", ContainerCapsJs);
  add("setIommu", SetIommuJs);
  add("iommuInfo", IommuInfoJs);
  add("groupStatus", GroupStatusJs);
  add("groupSetContainer", GroupSetContainerJs);
  add("groupUnsetContainer", GroupUnsetContainerJs);
  add("groupDeviceFd", GroupDeviceFdJs);
  add("adoptDeviceFd", AdoptDeviceFdJs);
  add("deviceInfo", DeviceInfoJs);
  add("regionInfo", RegionInfoJs);
  add("irqInfo", IrqInfoJs);
  add("reset", ResetJs);
  add("setIrqEventfds", SetIrqEventfdsJs);
  add("mapDma", MapDmaJs);
  add("unmapDma", UnmapDmaJs);
  add("mmapRegion", MmapRegionJs);
  add("unmapBuffer", UnmapBufferJs);
  add("configRead", ConfigReadJs);
  add("configWrite", ConfigWriteJs);
  add("eventfd", EventfdJs);
  add("readEventfd", ReadEventfdJs);
  exports.Set("vfio", o);
}

}  // namespace
PHYR_REGISTER_EXPORTS("vfio", init);
}  // namespace phyr::vfio
