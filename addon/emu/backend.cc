// The three backends.
//  null: stores nothing; reads return zeros (the device still validates and translates
//        every data pointer and fills the host buffer), writes are discarded.
//  ram:  one anonymous MAP_NORESERVE mapping of the whole capacity: the kernel allocates a
//        page only when it is first written, so a large namespace costs only what is
//        written; deallocate gives pages back with MADV_DONTNEED.
//  file: pread/pwrite on a regular file of the namespace capacity; a completed write is in
//        the kernel's page cache (survives the process, not a power loss); flush calls
//        fdatasync (survives a power loss on storage that honours it).
#include "backend.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace phyr::emu {
namespace {

class NullBackend final : public Backend {
 public:
  bool read(uint64_t, uint8_t* dst, uint64_t len) override {
    std::memset(dst, 0, len);
    return true;
  }
  bool write(uint64_t, const uint8_t*, uint64_t) override { return true; }
  bool zero(uint64_t, uint64_t, bool) override { return true; }
  bool flush() override { return true; }
  uint64_t allocatedBytes() const override { return 0; }
};

constexpr uint64_t kPage = 4096;

class RamBackend final : public Backend {
 public:
  RamBackend(uint8_t* base, uint64_t bytes) : base_(base), bytes_(bytes) {}
  ~RamBackend() override { munmap(base_, bytes_); }
  bool read(uint64_t off, uint8_t* dst, uint64_t len) override {
    std::memcpy(dst, base_ + off, len);
    return true;
  }
  bool write(uint64_t off, const uint8_t* src, uint64_t len) override {
    std::memcpy(base_ + off, src, len);
    return true;
  }
  bool zero(uint64_t off, uint64_t len, bool deallocate) override {
    // Whole pages inside the range go back to the kernel (they read as zeros again);
    // the partial pages at the ends are cleared by hand.
    uint64_t first = (off + kPage - 1) / kPage * kPage;
    uint64_t last = (off + len) / kPage * kPage;
    if (deallocate && first < last) {
      std::memset(base_ + off, 0, first - off);
      madvise(base_ + first, last - first, MADV_DONTNEED);
      std::memset(base_ + last, 0, off + len - last);
    } else {
      std::memset(base_ + off, 0, len);
    }
    return true;
  }
  bool flush() override { return true; }
  uint64_t allocatedBytes() const override {
    // mincore would count resident pages; capacity-in-use is not tracked page by page.
    return 0;
  }

 private:
  uint8_t* base_;
  uint64_t bytes_;
};

class FileBackend final : public Backend {
 public:
  explicit FileBackend(int fd) : fd_(fd) {}
  ~FileBackend() override { close(fd_); }
  bool read(uint64_t off, uint8_t* dst, uint64_t len) override {
    while (len > 0) {
      ssize_t n = pread(fd_, dst, len, static_cast<off_t>(off));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return false;
      if (n == 0) {  // past the end of a shorter file: zeros
        std::memset(dst, 0, len);
        return true;
      }
      dst += n, off += n, len -= n;
    }
    return true;
  }
  bool write(uint64_t off, const uint8_t* src, uint64_t len) override {
    while (len > 0) {
      ssize_t n = pwrite(fd_, src, len, static_cast<off_t>(off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      src += n, off += n, len -= n;
    }
    return true;
  }
  bool zero(uint64_t off, uint64_t len, bool deallocate) override {
    if (deallocate &&
        fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(off), static_cast<off_t>(len)) == 0)
      return true;
    static const uint8_t zeros[65536] = {};
    while (len > 0) {
      uint64_t n = len < sizeof zeros ? len : sizeof zeros;
      if (!write(off, zeros, n)) return false;
      off += n, len -= n;
    }
    return true;
  }
  bool flush() override { return fdatasync(fd_) == 0; }
  uint64_t allocatedBytes() const override {
    struct stat st;
    return fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
  }

 private:
  int fd_;
};

}  // namespace

std::unique_ptr<Backend> makeBackend(const std::string& kind, const std::string& path, uint64_t bytes,
                                     std::string* error) {
  if (kind == "null") return std::make_unique<NullBackend>();
  if (kind == "ram") {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      *error = "cannot reserve " + std::to_string(bytes) + " bytes of address space for backend=ram: " + std::strerror(errno);
      return nullptr;
    }
    return std::make_unique<RamBackend>(static_cast<uint8_t*>(p), bytes);
  }
  if (kind == "file") {
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      *error = "cannot open backend file '" + path + "': " + std::strerror(errno);
      return nullptr;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      *error = "backend file '" + path + "' is not a regular file";
      return nullptr;
    }
    // A new (or shorter) file grows to the capacity as a sparse file; a longer one keeps
    // its extra bytes untouched.
    if (static_cast<uint64_t>(st.st_size) < bytes && ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
      *error = "cannot size backend file '" + path + "' to " + std::to_string(bytes) + " bytes: " + std::strerror(errno);
      close(fd);
      return nullptr;
    }
    return std::make_unique<FileBackend>(fd);
  }
  *error = "unknown backend '" + kind + "' (valid: null, ram, file:PATH)";
  return nullptr;
}

}  // namespace phyr::emu
