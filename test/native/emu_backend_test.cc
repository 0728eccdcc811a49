// The file backend: what it accepts as a medium (regular files and block devices only, no
// pseudo filesystem), its exclusive lock (between controllers of one process and between
// processes, naming the holder), its size checks, and its durability points (FUA, Flush,
// volatile write cache disabled: a sync before the completion, counted in stats().syncs).
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emu_mini_driver.h"

using namespace phyr;
using namespace phyr::test;
using namespace phyr::nvme;

namespace {
std::string tempDir() {
  char tmpl[] = "/tmp/phyr-emu-backend-XXXXXX";
  const char* d = mkdtemp(tmpl);
  return d ? d : "/tmp";
}

emu::EmuConfig fileConfig(const std::string& path, uint64_t size = 1 << 20) {
  emu::EmuConfig cfg;
  cfg.backend = "file";
  cfg.path = path;
  cfg.nsBytes = size;
  cfg.queues = 2;
  return cfg;
}

// Creates a controller on `path`; returns the error (empty on success) and its code.
std::string tryOpen(const emu::EmuConfig& cfg, emu::BackendError* be, std::unique_ptr<emu::Controller>* out = nullptr) {
  std::string err;
  auto c = emu::Controller::create(cfg, nullptr, &err, be);
  bool ok = c != nullptr;
  if (out) *out = std::move(c);
  return ok ? std::string() : err;
}

bool contains(const std::string& s, const std::string& part) {
  if (s.find(part) != std::string::npos) return true;
  std::fprintf(stderr, "    '%s' does not contain '%s'\n", s.c_str(), part.c_str());
  return false;
}
}  // namespace

TEST(emu_backend_refuses_what_is_not_storage) {
  std::string dir = tempDir();
  std::string fifo = dir + "/fifo", sock = dir + "/sock";
  CHECK_EQ(mkfifo(fifo.c_str(), 0600), 0);
  int s = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock.c_str());
  CHECK_EQ(bind(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  const std::pair<std::string, std::string> cases[] = {
      {"/proc/self/mem", "is on proc, a pseudo filesystem"},
      {"/proc/version", "is on proc, a pseudo filesystem"},
      {"/sys/kernel/mm/transparent_hugepage/enabled", "is on sysfs, a pseudo filesystem"},
      {"/dev/null", "is a character device"},
      {"/dev/zero", "is a character device"},
      {fifo, "is a FIFO"},
      {sock, "is a socket"},
      {dir, "is a directory"},
  };
  for (const auto& [path, why] : cases) {
    if (access(path.c_str(), F_OK) != 0) {
      std::fprintf(stderr, "    %s is missing on this machine\n", path.c_str());
      CHECK(false);
      continue;
    }
    emu::BackendError be;
    std::string err = tryOpen(fileConfig(path), &be);
    CHECK(be.code == "PHYR_EMU_BACKEND");
    CHECK(contains(err, "'" + path + "' " + why));
    CHECK(contains(err, "regular file (created if missing) or a block device"));
  }
  close(s);
  // Nothing was created or left behind in their place.
  struct stat st;
  CHECK(stat(fifo.c_str(), &st) == 0 && S_ISFIFO(st.st_mode));
  unlink(fifo.c_str());
  unlink(sock.c_str());
  rmdir(dir.c_str());
}

TEST(emu_backend_lock_between_controllers_of_one_process) {
  std::string dir = tempDir(), img = dir + "/ns.img";
  std::unique_ptr<emu::Controller> a, b;
  emu::BackendError be;
  CHECK(tryOpen(fileConfig(img), &be, &a).empty());
  std::string err = tryOpen(fileConfig(img), &be, &b);
  CHECK(!b);
  CHECK(be.code == "PHYR_EMU_IMAGE_LOCKED");
  CHECK_EQ(be.holderPid, static_cast<int64_t>(getpid()));
  CHECK(contains(err, "in use by another emulated controller of this process (pid " + std::to_string(getpid()) + ")"));
  // Through a symbolic link: the same image, the same refusal.
  std::string link = dir + "/link.img";
  CHECK_EQ(symlink(img.c_str(), link.c_str()), 0);
  be = {};
  CHECK(!tryOpen(fileConfig(link), &be).empty());
  CHECK(be.code == "PHYR_EMU_IMAGE_LOCKED");
  // Destroying the holder releases the lock.
  a.reset();
  be = {};
  CHECK(tryOpen(fileConfig(link), &be, &b).empty());
  CHECK(b != nullptr);
  b.reset();
  unlink(link.c_str());
  unlink(img.c_str());
  rmdir(dir.c_str());
}

TEST(emu_backend_lock_between_processes_names_the_holder) {
  std::string dir = tempDir(), img = dir + "/ns.img";
  int toChild[2], toParent[2];
  CHECK_EQ(pipe(toChild), 0);
  CHECK_EQ(pipe(toParent), 0);
  pid_t pid = fork();
  if (pid == 0) {
    std::string err;
    auto c = emu::Controller::create(fileConfig(img), nullptr, &err);
    char ok = c ? 'y' : 'n';
    if (write(toParent[1], &ok, 1) != 1) _exit(2);
    char wait;
    if (read(toChild[0], &wait, 1) != 1) _exit(3);
    _exit(0);  // the lock goes with the process
  }
  char ok = 0;
  CHECK_EQ(read(toParent[0], &ok, 1), 1);
  CHECK_EQ(ok, 'y');
  emu::BackendError be;
  std::string err = tryOpen(fileConfig(img), &be);
  CHECK(be.code == "PHYR_EMU_IMAGE_LOCKED");
  CHECK_EQ(be.holderPid, static_cast<int64_t>(pid));
  CHECK(contains(err, "is locked by process " + std::to_string(pid) + " ("));
  CHECK(!be.holderCommand.empty());
  char go = 'x';
  CHECK_EQ(write(toChild[1], &go, 1), 1);
  int status = 0;
  CHECK_EQ(waitpid(pid, &status, 0), pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  be = {};
  std::unique_ptr<emu::Controller> c;
  CHECK(tryOpen(fileConfig(img), &be, &c).empty());
  c.reset();
  for (int fd : {toChild[0], toChild[1], toParent[0], toParent[1]}) close(fd);
  unlink(img.c_str());
  rmdir(dir.c_str());
}

TEST(emu_backend_sizes) {
  std::string dir = tempDir(), img = dir + "/ns.img";
  // A new file is created sparse at ns x size.
  std::unique_ptr<emu::Controller> c;
  emu::BackendError be;
  auto cfg = fileConfig(img, 1 << 20);
  cfg.namespaces = 2;
  CHECK(tryOpen(cfg, &be, &c).empty());
  c.reset();
  struct stat st;
  CHECK(stat(img.c_str(), &st) == 0 && st.st_size == 2 << 20);
  // A non-empty file smaller than ns x size is refused, and left as it was.
  cfg.nsBytes = 2 << 20;
  std::string err = tryOpen(cfg, &be);
  CHECK(be.code == "PHYR_EMU_BACKEND");
  CHECK(contains(err, "is 2097152 bytes, smaller than ns x size = 4194304 bytes"));
  CHECK(stat(img.c_str(), &st) == 0 && st.st_size == 2 << 20);
  // A larger file is fine (the extra bytes are left alone); an empty one grows.
  cfg.nsBytes = 512 << 10;
  CHECK(tryOpen(cfg, &be, &c).empty());
  c.reset();
  CHECK_EQ(truncate(img.c_str(), 0), 0);
  CHECK(tryOpen(cfg, &be, &c).empty());
  c.reset();
  CHECK(stat(img.c_str(), &st) == 0 && st.st_size == 1 << 20);
  // A path in a missing directory: an open error, nothing created.
  be = {};
  err = tryOpen(fileConfig(dir + "/missing/ns.img"), &be);
  CHECK(be.code == "PHYR_EMU_BACKEND");
  CHECK(contains(err, "cannot create backend file"));
  unlink(img.c_str());
  rmdir(dir.c_str());
}

namespace {
Sqe write1(MiniDriver& d, uint64_t lba, uint8_t* buf, bool fua) {
  Sqe s = d.sqe(IO_WRITE, 1);
  s.cdw10 = static_cast<uint32_t>(lba);
  s.cdw12 = fua ? 1u << 30 : 0;  // NLB 0's based: one block; FUA is bit 30
  s.dptr1 = d.iova(buf);
  return s;
}
}  // namespace

TEST(emu_backend_durability_points) {
  std::string dir = tempDir(), img = dir + "/ns.img";
  {
    MiniDriver d(fileConfig(img));
    CHECK(d.enable());
    MiniQueue q;
    CHECK(d.createIoPair(q, 1, 16, 2, 3));
    uint8_t* buf = d.page(100);
    std::memset(buf, 0x77, 512);
    // Write without FUA, cache on: no sync. Ten FUA writes: ten.
    CHECK_EQ(d.run(q, write1(d, 0, buf, false)), 0u);
    CHECK_EQ(d.ctrl->stats().syncs, 0u);
    for (int i = 0; i < 10; i++) CHECK_EQ(d.run(q, write1(d, i, buf, true)), 0u);
    CHECK_EQ(d.ctrl->stats().syncs, 10u);
    // Flush: one.
    CHECK_EQ(d.run(q, d.sqe(IO_FLUSH, 1)), 0u);
    CHECK_EQ(d.ctrl->stats().syncs, 11u);
    // Write Zeroes with FUA: one.
    Sqe wz = d.sqe(IO_WRITE_ZEROES, 1);
    wz.cdw12 = 1u << 30;
    CHECK_EQ(d.run(q, wz), 0u);
    CHECK_EQ(d.ctrl->stats().syncs, 12u);
    // Cache off: the switch itself syncs, then every write does.
    Sqe sf = d.sqe(ADMIN_SET_FEATURES);
    sf.cdw10 = FEAT_VOLATILE_WRITE_CACHE;
    sf.cdw11 = 0;
    CHECK_EQ(d.admin1(sf), 0u);
    CHECK_EQ(d.ctrl->stats().syncs, 13u);
    for (int i = 0; i < 10; i++) CHECK_EQ(d.run(q, write1(d, i, buf, false)), 0u);
    CHECK_EQ(d.ctrl->stats().syncs, 23u);
    // Reads never sync; cache back on: plain writes stop syncing.
    Sqe r = d.sqe(IO_READ, 1);
    r.dptr1 = d.iova(d.page(101));
    CHECK_EQ(d.run(q, r), 0u);
    sf.cdw11 = 1;
    CHECK_EQ(d.admin1(sf), 0u);
    CHECK_EQ(d.run(q, write1(d, 3, buf, false)), 0u);
    CHECK_EQ(d.ctrl->stats().syncs, 23u);
  }
  // The ram backend has nothing to sync: FUA and Flush complete, syncs stays 0.
  {
    MiniDriver d(emu::EmuConfig{});
    CHECK(d.enable());
    MiniQueue q;
    CHECK(d.createIoPair(q, 1, 16, 2, 3));
    CHECK_EQ(d.run(q, write1(d, 0, d.page(100), true)), 0u);
    CHECK_EQ(d.run(q, d.sqe(IO_FLUSH, 1)), 0u);
    CHECK_EQ(d.ctrl->stats().syncs, 0u);
  }
  unlink(img.c_str());
  rmdir(dir.c_str());
}
