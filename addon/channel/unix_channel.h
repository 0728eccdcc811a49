// A Unix-domain socket channel that carries messages with file descriptors (SCM_RIGHTS,
// unix(7)): the only way for one process to hand another the memory (memfd) and the
// doorbell access a queue pair needs. Node's net module cannot pass descriptors, so this
// is native. SOCK_SEQPACKET keeps message boundaries: one send is one receive, and the
// descriptors sent with a message arrive with exactly that message.
// Core C++ (no Node headers): the glue is channel_napi.cc; test/native/channel_test.cc
// drives this file directly. Every function returns 0 or an errno value.
#pragma once
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace phyr::channel {

// Largest message (payload bytes) and descriptors per message. A message is a small
// control record (JSON); anything bigger is memory, which travels as a descriptor.
constexpr size_t kMaxMessage = 64 * 1024;
constexpr size_t kMaxFds = 16;

// Creates a listening socket bound to `path` (which must not exist). Non-blocking,
// close-on-exec. The socket file gets mode `mode` (umask applied at bind is undone by an
// explicit chmod, so 0600 means 0600).
int listenAt(const std::string& path, unsigned mode, int* fd);

// Connects to the listening socket at `path`; the result is non-blocking and close-on-exec.
int connectTo(const std::string& path, int* fd);

// Accepts one pending connection; EAGAIN when none is waiting.
int acceptOne(int listenFd, int* fd);

// Sends one message with `nfds` descriptors (dup'ed into the receiver by the kernel).
// EAGAIN when the socket buffer is full; EPIPE when the peer is gone (never SIGPIPE).
int sendMessage(int fd, const uint8_t* data, size_t len, const int* fds, size_t nfds);

/** One received message. */
struct Message {
  std::vector<uint8_t> data;
  std::vector<int> fds;  // now owned by the receiver: close each one
  bool closed = false;   // the peer closed the connection (no data, no fds)
};

// Receives one message; EAGAIN when none is waiting. A message longer than kMaxMessage,
// or with more than kMaxFds descriptors, is refused with EMSGSIZE (the descriptors it did
// carry are closed, so a hostile peer cannot fill our descriptor table).
int receiveMessage(int fd, Message* out);

// Waits up to `timeoutMs` for `fd` to become readable (or hung up); *ready says whether it did.
int waitReadable(int fd, int timeoutMs, bool* ready);

/** The process at the other end of a connected socket (SO_PEERCRED). */
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};
int peerCredentials(int fd, PeerCredentials* out);

// Closes a descriptor.
int closeFd(int fd);

// True when `fd` is an open socket of this process.
bool isSocket(int fd);

}  // namespace phyr::channel
