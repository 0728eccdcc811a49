// The control connection to `phyr serve` from C++ (the protocol of serve/protocol.ts,
// docs/SERVE.md): SOCK_SEQPACKET, one JSON object per message, descriptors by SCM_RIGHTS.
// Only the requests a fio job needs: attach, map, unmap, createQueuePair, deleteQueuePair.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace phyr::fioengine {

struct NamespaceInfo {
  uint32_t nsid = 0;
  uint32_t lbaSize = 0;
  uint64_t blocks = 0;
};

// AttachInfo of serve/protocol.ts, the fields used here.
struct AttachInfo {
  bool viaVfio = false;
  uint64_t doorbellOffset = 0;
  uint64_t doorbellLength = 0;
  uint64_t doorbellBase = 0;
  uint32_t doorbellStride = 0;
  uint32_t maxQueueEntries = 0;
  uint64_t iovaStart = 0;
  uint64_t iovaEnd = 0;
  uint32_t pageSize = 4096;
  uint32_t sglSupport = 0;
  bool bitBucket = false;
  uint64_t maxTransfer = 0;
  std::vector<NamespaceInfo> namespaces;
};

class ServeLink {
 public:
  ~ServeLink() { close(); }
  bool connect(const std::string& path, std::string* err);
  // attach: version 2; keeps the doorbells' descriptor (doorbellFd) for the caller to map.
  bool attach(AttachInfo* info, std::string* err);
  bool map(uint64_t iova, uint64_t length, int fd, std::string* err);
  bool unmap(uint64_t iova, uint64_t length, std::string* err);
  bool createQueuePair(uint32_t size, uint64_t sqIova, uint64_t cqIova, int* qid, std::string* err);
  bool deleteQueuePair(int qid, std::string* err);
  // True once the daemon hung up or sent anything unasked (its `shutdown` notice): no
  // request is outstanding while IO runs, so any message then means it is going away.
  bool peerGone() const;
  int doorbellFd() const { return doorbellFd_; }
  void closeDoorbellFd();
  void close();

 private:
  // Sends one request (with at most one descriptor) and waits for its answer; an `error`
  // answer becomes *err ("CODE: message"). Received descriptors land in fds_.
  bool request(const std::string& json, int fd, std::string* reply, std::string* err);
  int sock_ = -1;
  int doorbellFd_ = -1;
  uint32_t nextId_ = 1;
  std::vector<int> fds_;
};

// A number field of a flat JSON text: the first `"key":` at or after `from` (npos: none).
bool jsonNumber(const std::string& s, const char* key, uint64_t* out, size_t from = 0, size_t to = std::string::npos);
bool jsonString(const std::string& s, const char* key, std::string* out, size_t from = 0);

}  // namespace phyr::fioengine
