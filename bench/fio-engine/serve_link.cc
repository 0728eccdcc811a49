#include "bench/fio-engine/serve_link.h"

#include "addon/channel/unix_channel.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace phyr::fioengine {

namespace {
constexpr int kProtocolVersion = 2;      // SERVE_PROTOCOL_VERSION, serve/protocol.ts
constexpr int kTimeoutMs = 10000;        // as ConnectOptions.requestTimeoutMs' default
}  // namespace

bool jsonNumber(const std::string& s, const char* key, uint64_t* out, size_t from, size_t to) {
  const std::string k = std::string("\"") + key + "\":";
  const size_t at = s.find(k, from);
  if (at == std::string::npos || (to != std::string::npos && at >= to)) return false;
  size_t i = at + k.size();
  while (i < s.size() && s[i] == ' ') i++;
  if (s.compare(i, 4, "true") == 0) return *out = 1, true;
  if (s.compare(i, 5, "false") == 0) return *out = 0, true;
  if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
  uint64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') v = v * 10 + static_cast<uint64_t>(s[i++] - '0');
  *out = v;
  return true;
}

bool jsonString(const std::string& s, const char* key, std::string* out, size_t from) {
  const std::string k = std::string("\"") + key + "\":\"";
  const size_t at = s.find(k, from);
  if (at == std::string::npos) return false;
  out->clear();
  for (size_t i = at + k.size(); i < s.size() && s[i] != '"'; i++) {
    if (s[i] == '\\' && i + 1 < s.size()) i++;
    out->push_back(s[i]);
  }
  return true;
}

bool ServeLink::connect(const std::string& path, std::string* err) {
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    *err = "the socket path is longer than " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes";
    return false;
  }
  // The addon's channel (addon/channel/unix_channel.h): SOCK_SEQPACKET, close-on-exec.
  if (int e = channel::connectTo(path, &sock_)) {
    sock_ = -1;
    *err = std::string("cannot connect (is `phyr serve --socket ") + path + "` running?): " + std::strerror(e);
    return false;
  }
  return true;
}

bool ServeLink::request(const std::string& json, int fd, std::string* reply, std::string* err) {
  if (sock_ < 0) return *err = "not connected", false;
  const uint32_t id = nextId_++;
  const std::string msg = "{\"id\":" + std::to_string(id) + "," + json.substr(1);
  // One request is outstanding at a time, so the (non-blocking) socket's buffer has room.
  if (int e = channel::sendMessage(sock_, reinterpret_cast<const uint8_t*>(msg.data()), msg.size(), fd >= 0 ? &fd : nullptr, fd >= 0 ? 1 : 0)) {
    return *err = std::string("send: ") + std::strerror(e), false;
  }
  while (true) {
    bool ready = false;
    if (int e = channel::waitReadable(sock_, kTimeoutMs, &ready)) return *err = std::string("poll: ") + std::strerror(e), false;
    if (!ready) return *err = "no answer from the daemon within " + std::to_string(kTimeoutMs) + " ms", false;
    channel::Message m;
    const int e = channel::receiveMessage(sock_, &m);
    if (e == EAGAIN || e == EINTR) continue;
    if (e) return *err = std::string("receive: ") + std::strerror(e), false;
    if (m.closed) return *err = "the daemon closed the connection", false;
    std::vector<int>& got = m.fds;
    reply->assign(reinterpret_cast<const char*>(m.data.data()), m.data.size());
    std::string type;
    uint64_t rid = 0;
    jsonString(*reply, "type", &type);
    if (type == "shutdown") {
      for (int f : got) ::close(f);
      std::string reason;
      jsonString(*reply, "reason", &reason);
      return *err = "the daemon shut down: " + reason, false;
    }
    if (!jsonNumber(*reply, "id", &rid) || rid != id) {
      for (int f : got) ::close(f);
      continue;  // an answer to another request (none are outstanding here): dropped
    }
    fds_ = got;
    if (type == "error") {
      std::string code, message;
      jsonString(*reply, "code", &code);
      jsonString(*reply, "message", &message);
      *err = code + ": " + message;
      for (int f : fds_) ::close(f);
      fds_.clear();
      return false;
    }
    return true;
  }
}

bool ServeLink::attach(AttachInfo* info, std::string* err) {
  std::string r;
  if (!request("{\"type\":\"attach\",\"version\":" + std::to_string(kProtocolVersion) + "}", -1, &r, err)) return false;
  if (fds_.size() != 1) {
    *err = "attach: the daemon sent " + std::to_string(fds_.size()) + " descriptors, expected the doorbells' one";
    for (int f : fds_) ::close(f);
    fds_.clear();
    return false;
  }
  doorbellFd_ = fds_[0];
  fds_.clear();
  std::string via;
  uint64_t v = 0;
  const size_t db = r.find("\"doorbells\":");
  const size_t iova = r.find("\"iova\":");
  const size_t caps = r.find("\"caps\":");
  const size_t nss = r.find("\"namespaces\":");
  bool ok = db != std::string::npos && iova != std::string::npos && caps != std::string::npos && nss != std::string::npos;
  ok = ok && jsonString(r, "via", &via, db);
  info->viaVfio = via == "vfio";
  ok = ok && jsonNumber(r, "offset", &info->doorbellOffset, db) && jsonNumber(r, "length", &info->doorbellLength, db) &&
       jsonNumber(r, "base", &info->doorbellBase, db);
  ok = ok && jsonNumber(r, "doorbellStride", &v) && (info->doorbellStride = static_cast<uint32_t>(v), true);
  ok = ok && jsonNumber(r, "maxQueueEntries", &v) && (info->maxQueueEntries = static_cast<uint32_t>(v), true);
  ok = ok && jsonNumber(r, "start", &info->iovaStart, iova) && jsonNumber(r, "end", &info->iovaEnd, iova);
  ok = ok && jsonNumber(r, "pageSize", &v, caps) && (info->pageSize = static_cast<uint32_t>(v), true);
  ok = ok && jsonNumber(r, "sglSupport", &v, caps) && (info->sglSupport = static_cast<uint32_t>(v), true);
  ok = ok && jsonNumber(r, "bitBucket", &v, caps) && (info->bitBucket = v != 0, true);
  ok = ok && jsonNumber(r, "maxTransfer", &info->maxTransfer, caps);
  if (!ok || (via != "memfd" && via != "vfio")) {
    *err = "attach: the answer lacks a field of AttachInfo (doorbells, doorbellStride, maxQueueEntries, iova, caps, namespaces)";
    return false;
  }
  const size_t end = r.find(']', nss);
  for (size_t at = r.find('{', nss); at != std::string::npos && at < end; at = r.find('{', at + 1)) {
    NamespaceInfo n;
    uint64_t nsid = 0, lba = 0;
    if (!jsonNumber(r, "nsid", &nsid, at, end) || !jsonNumber(r, "lbaSize", &lba, at, end) || !jsonNumber(r, "blocks", &n.blocks, at, end)) break;
    n.nsid = static_cast<uint32_t>(nsid);
    n.lbaSize = static_cast<uint32_t>(lba);
    info->namespaces.push_back(n);
  }
  return true;
}

bool ServeLink::map(uint64_t iova, uint64_t length, int fd, std::string* err) {
  std::string r;
  return request("{\"type\":\"map\",\"iova\":" + std::to_string(iova) + ",\"length\":" + std::to_string(length) + "}", fd, &r, err);
}

bool ServeLink::unmap(uint64_t iova, uint64_t length, std::string* err) {
  std::string r;
  return request("{\"type\":\"unmap\",\"iova\":" + std::to_string(iova) + ",\"length\":" + std::to_string(length) + "}", -1, &r, err);
}

bool ServeLink::createQueuePair(uint32_t size, uint64_t sqIova, uint64_t cqIova, int* qid, std::string* err) {
  std::string r;
  if (!request("{\"type\":\"createQueuePair\",\"size\":" + std::to_string(size) + ",\"sqIova\":" + std::to_string(sqIova) +
                   ",\"cqIova\":" + std::to_string(cqIova) + "}",
               -1, &r, err))
    return false;
  uint64_t q = 0;
  if (!jsonNumber(r, "qid", &q)) return *err = "createQueuePair: the answer has no qid", false;
  *qid = static_cast<int>(q);
  return true;
}

bool ServeLink::deleteQueuePair(int qid, std::string* err) {
  std::string r;
  return request("{\"type\":\"deleteQueuePair\",\"qid\":" + std::to_string(qid) + "}", -1, &r, err);
}

bool ServeLink::peerGone() const {
  if (sock_ < 0) return true;
  pollfd p{sock_, POLLIN | POLLRDHUP, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

void ServeLink::closeDoorbellFd() {
  if (doorbellFd_ >= 0) ::close(doorbellFd_);
  doorbellFd_ = -1;
}

void ServeLink::close() {
  closeDoorbellFd();
  if (sock_ >= 0) ::close(sock_);
  sock_ = -1;
}

}  // namespace phyr::fioengine
