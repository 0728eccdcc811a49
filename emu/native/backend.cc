// The four backends.
//  nodata: stores nothing and moves no data, as the kernel's null_blk does without
//        memory_backed: a Read completes without writing host memory (the buffer keeps
//        whatever it held), a Write without reading it. The device still validates and
//        translates every data pointer (a bad PRP or SGL fails exactly as elsewhere); only
//        the copy is skipped. For benchmarks of everything but the data movement.
//  null: stores nothing; reads return zeros (the device still validates and translates
//        every data pointer and fills the host buffer), writes are discarded.
//  ram:  one anonymous MAP_NORESERVE mapping of the whole capacity: the kernel allocates a
//        page only when it is first written, so a large namespace costs only what is
//        written; deallocate gives pages back with MADV_DONTNEED.
//  file: pread/pwrite on a regular file or a block device of at least the namespace
//        capacity; a completed write is in the kernel's page cache (survives the process,
//        not a power loss); flush calls fdatasync (survives a power loss on storage that
//        honours it). The image is locked for exclusive use (flock, plus a table of the
//        images this process holds) so that no two controllers share one medium.
#include "emu/native/backend.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>
#include <utility>

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

// Controller::readWrite asks movesData() and skips the transfer; read() serves only the
// device's own reads (Compare compares against zeros, as on null).
class NoDataBackend final : public Backend {
 public:
  bool read(uint64_t, uint8_t* dst, uint64_t len) override {
    std::memset(dst, 0, len);
    return true;
  }
  bool write(uint64_t, const uint8_t*, uint64_t) override { return true; }
  bool zero(uint64_t, uint64_t, bool) override { return true; }
  bool flush() override { return true; }
  uint64_t allocatedBytes() const override { return 0; }
  bool movesData() const override { return false; }
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

// The images this process holds, by (device, inode): flock alone would also refuse a second
// controller of this process (each open() is its own open file description), but this table
// lets the refusal say so, and covers filesystems whose flock is a no-op.
std::mutex& heldMutex() {
  static std::mutex m;
  return m;
}
std::set<std::pair<dev_t, ino_t>>& heldImages() {
  static std::set<std::pair<dev_t, ino_t>> s;
  return s;
}

class FileBackend final : public Backend {
 public:
  FileBackend(int fd, dev_t dev, ino_t ino) : fd_(fd), key_(dev, ino) {}
  ~FileBackend() override {
    if (fd_ < 0) return;
    {
      std::lock_guard<std::mutex> lock(heldMutex());
      heldImages().erase(key_);
    }
    close(fd_);  // releases the flock
  }
  // Closes the image without touching the table (the opener, holding heldMutex, already
  // removed the entry).
  void forget() {
    close(fd_);
    fd_ = -1;
  }
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
  bool flush() override {
    int r;
    do r = fdatasync(fd_);
    while (r != 0 && errno == EINTR);
    return r == 0;
  }
  bool persistent() const override { return true; }
  uint64_t allocatedBytes() const override {
    struct stat st;
    return fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
  }

 private:
  int fd_;
  std::pair<dev_t, ino_t> key_;
};

const char* fileTypeName(mode_t m) {
  if (S_ISREG(m)) return "a regular file";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISSOCK(m)) return "a socket";
  if (S_ISLNK(m)) return "a symbolic link";
  return "not a file";
}

// Filesystems whose files are views of kernel or process state, not storage: a "regular
// file" there (/proc/self/mem, /proc/version, sysfs attributes) must never be a medium.
const char* pseudoFilesystem(int64_t type) {
  static const std::pair<int64_t, const char*> kPseudo[] = {
      {0x9fa0, "proc"},           {0x62656572, "sysfs"},     {0x64626720, "debugfs"},
      {0x74726163, "tracefs"},    {0x73636673, "securityfs"}, {0x27e0eb, "cgroup"},
      {0x63677270, "cgroup2"},    {0x62656570, "configfs"},  {0xcafe4a11, "bpf"},
      {0x6165676c, "pstore"},     {0xde5e81e4, "efivarfs"},  {0x1cd1, "devpts"},
      {0x958458f6, "hugetlbfs"},  {0x65735543, "fusectl"},   {0xf97cff8c, "selinuxfs"},
      {0x42494e4d, "binfmt_misc"}, {0x6e736673, "nsfs"},     {0x09041934, "anon_inodefs"},
      {0x50495045, "pipefs"},     {0x534f434b, "sockfs"}};
  for (auto& [magic, name] : kPseudo)
    if (type == magic) return name;
  return nullptr;
}

bool fail(BackendError* e, const std::string& code, const std::string& message) {
  e->code = code;
  e->message = message;
  return false;
}

const char* kAccepted = "backend=file takes a regular file (created if missing) or a block device";

// Type and filesystem checks shared by the path (before opening) and the fd (after).
bool acceptable(const std::string& path, const struct stat& st, int64_t fsType, BackendError* e) {
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
    return fail(e, "PHYR_EMU_BACKEND", "backend file '" + path + "' is " + fileTypeName(st.st_mode) + "; " + kAccepted);
  if (const char* fs = pseudoFilesystem(fsType))
    return fail(e, "PHYR_EMU_BACKEND",
                "backend file '" + path + "' is on " + fs + ", a pseudo filesystem (kernel or process state, not storage); " +
                    kAccepted + " on a storage filesystem");
  return true;
}

// The holder of an flock on (dev, ino), from /proc/locks ("N: FLOCK ADVISORY WRITE pid
// MAJ:MIN:INODE start end"); 0 when not found.
int64_t lockHolder(dev_t dev, ino_t ino) {
  FILE* f = std::fopen("/proc/locks", "re");
  if (!f) return 0;
  char line[512];
  int64_t byInode = 0, exact = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strstr(line, "->")) continue;  // a waiter, not a holder
    char kind[16], mode[16], rw[16];
    long long pid;
    unsigned maj, min;
    unsigned long long inode;
    if (std::sscanf(line, "%*d: %15s %15s %15s %lld %x:%x:%llu", kind, mode, rw, &pid, &maj, &min, &inode) != 7) continue;
    if (std::strcmp(kind, "FLOCK") != 0 || inode != static_cast<unsigned long long>(ino)) continue;
    if (maj == major(dev) && min == minor(dev)) exact = pid;
    else if (!byInode) byInode = pid;
  }
  std::fclose(f);
  return exact ? exact : byInode;
}

std::string commandLine(int64_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/cmdline").c_str(), "re");
  if (!f) return {};
  char buf[4096];
  size_t n = std::fread(buf, 1, sizeof buf, f);
  std::fclose(f);
  std::string s;
  for (size_t i = 0; i < n; i++) s += buf[i] ? buf[i] : ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  if (s.size() > 200) s = s.substr(0, 197) + "...";
  return s;
}

bool lockedBySelf(const std::string& path, BackendError* e) {
  e->holderPid = getpid();
  e->holderCommand = commandLine(e->holderPid);
  return fail(e, "PHYR_EMU_IMAGE_LOCKED", "backend file '" + path + "' is in use by another emulated controller of this process (pid " +
                                              std::to_string(e->holderPid) + "); close that controller first");
}

bool lockedByOther(const std::string& path, dev_t dev, ino_t ino, BackendError* e) {
  e->holderPid = lockHolder(dev, ino);
  if (!e->holderPid)
    return fail(e, "PHYR_EMU_IMAGE_LOCKED",
                "backend file '" + path + "' is in use (mounted, or held exclusively by another program); unmount it or stop that program, or use another image");
  e->holderCommand = commandLine(e->holderPid);
  std::string who = "process " + std::to_string(e->holderPid) + (e->holderCommand.empty() ? "" : " (" + e->holderCommand + ")");
  return fail(e, "PHYR_EMU_IMAGE_LOCKED",
              "backend file '" + path + "' is locked by " + who + "; one image serves one controller at a time: stop that process or use another image");
}

std::unique_ptr<Backend> openFile(const std::string& path, uint64_t bytes, BackendError* e) {
  if (path.empty()) return fail(e, "PHYR_EMU_BACKEND", "backend=file needs a path (file:PATH)"), nullptr;
  // Held for the whole open: the table check and the flock are one step for this process.
  std::lock_guard<std::mutex> held(heldMutex());
  // Look before opening: opening a FIFO can block and opening some character devices has
  // side effects, so only a missing path, a regular file or a block device is opened.
  struct stat st{};
  bool created = false;
  int fd = -1;
  if (stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT)
      return fail(e, "PHYR_EMU_BACKEND", "cannot open backend file '" + path + "': " + std::strerror(errno)), nullptr;
    // O_EXCL: if something appeared at the path meanwhile, it is not created over.
    fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0)
      return fail(e, "PHYR_EMU_BACKEND", "cannot create backend file '" + path + "': " + std::strerror(errno)), nullptr;
    created = true;
  } else {
    struct statfs sf{};
    if (statfs(path.c_str(), &sf) != 0) sf.f_type = 0;
    if (!acceptable(path, st, static_cast<int64_t>(sf.f_type), e)) return nullptr;
    if (heldImages().count({st.st_dev, st.st_ino})) return lockedBySelf(path, e), nullptr;
    // A block device is opened O_EXCL: the kernel refuses it while mounted or held by
    // another exclusive opener (md, dm, another emulator).
    int flags = O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (S_ISBLK(st.st_mode) ? O_EXCL : 0);
    fd = open(path.c_str(), flags);
    if (fd < 0) {
      if (errno == EBUSY && S_ISBLK(st.st_mode)) return lockedByOther(path, st.st_dev, st.st_ino, e), nullptr;
      return fail(e, "PHYR_EMU_BACKEND", "cannot open backend file '" + path + "': " + std::strerror(errno)), nullptr;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  }
  auto refuse = [&](const std::string& code, const std::string& message) -> std::unique_ptr<Backend> {
    fail(e, code, message);
    close(fd);
    if (created) unlink(path.c_str());
    return nullptr;
  };
  // The same checks on what was opened (the path may have been replaced in between).
  struct stat fst{};
  struct statfs fsf{};
  if (fstat(fd, &fst) != 0 || fstatfs(fd, &fsf) != 0)
    return refuse("PHYR_EMU_BACKEND", "cannot inspect backend file '" + path + "': " + std::strerror(errno));
  if (!acceptable(path, fst, static_cast<int64_t>(fsf.f_type), e)) return refuse(e->code, e->message);
  if (!created && (fst.st_dev != st.st_dev || fst.st_ino != st.st_ino))
    return refuse("PHYR_EMU_BACKEND", "backend file '" + path + "' was replaced while it was being opened; try again");

  // Exclusive use: first this process's table, then flock against other processes.
  std::pair<dev_t, ino_t> key(fst.st_dev, fst.st_ino);
  if (heldImages().count(key)) return lockedBySelf(path, e), refuse(e->code, e->message);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err != EWOULDBLOCK) return refuse("PHYR_EMU_BACKEND", "cannot lock backend file '" + path + "': " + std::strerror(err));
    lockedByOther(path, fst.st_dev, fst.st_ino, e);
    return refuse(e->code, e->message);
  }
  heldImages().insert(key);
  // Owns fd and the table entry from here. Its destructor takes heldMutex, which is held
  // here: refuseHeld therefore undoes both by hand (forget()) instead of destroying it.
  auto backend = std::make_unique<FileBackend>(fd, key.first, key.second);
  auto refuseHeld = [&](const std::string& message) -> std::unique_ptr<Backend> {
    e->code = "PHYR_EMU_BACKEND";
    e->message = message;
    heldImages().erase(key);
    backend->forget();
    if (created) unlink(path.c_str());
    return nullptr;
  };
  if (S_ISBLK(fst.st_mode)) {
    uint64_t devBytes = 0;
    if (ioctl(fd, BLKGETSIZE64, &devBytes) != 0)
      return refuseHeld("cannot read the size of block device '" + path + "': " + std::strerror(errno));
    if (devBytes < bytes)
      return refuseHeld("block device '" + path + "' holds " + std::to_string(devBytes) + " bytes, less than ns x size = " +
                        std::to_string(bytes) + " bytes; give a smaller size=");
    return backend;
  }
  uint64_t have = static_cast<uint64_t>(fst.st_size);
  if (have < bytes) {
    // A new or empty file grows to the capacity as a sparse file. A non-empty shorter file
    // is someone's image of another geometry: refuse rather than reinterpret it.
    if (have != 0)
      return refuseHeld("backend file '" + path + "' is " + std::to_string(have) + " bytes, smaller than ns x size = " +
                        std::to_string(bytes) + " bytes; give a size= that fits (at most " + std::to_string(have) +
                        " bytes in all) or grow the file first (truncate -s " + std::to_string(bytes) + ")");
    if (ftruncate(fd, static_cast<off_t>(bytes)) != 0)
      return refuseHeld("cannot size backend file '" + path + "' to " + std::to_string(bytes) + " bytes: " + std::strerror(errno));
  }
  return backend;
}

}  // namespace

std::unique_ptr<Backend> makeBackend(const std::string& kind, const std::string& path, uint64_t bytes,
                                     BackendError* error) {
  if (kind == "null") return std::make_unique<NullBackend>();
  if (kind == "nodata") return std::make_unique<NoDataBackend>();
  if (kind == "ram") {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      error->code = "PHYR_EMU_BACKEND";
      error->message = "cannot reserve " + std::to_string(bytes) + " bytes of address space for backend=ram: " + std::strerror(errno);
      return nullptr;
    }
    return std::make_unique<RamBackend>(static_cast<uint8_t*>(p), bytes);
  }
  if (kind == "file") return openFile(path, bytes, error);
  error->code = "PHYR_EMU_BACKEND";
  error->message = "unknown backend '" + kind + "' (valid: nodata, null, ram, file:PATH)";
  return nullptr;
}

}  // namespace phyr::emu
