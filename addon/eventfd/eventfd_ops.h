// eventfd(2) operations used for interrupt delivery: MSI-X vectors are wired to eventfds
// (VFIO_DEVICE_SET_IRQS, or the emulated controller's own), and the driver waits on them.
// Core C++ (no Node headers): the glue is eventfd_napi.cc; test/native/memory_eventfd_test.cc
// drives this file directly. Every function returns 0 or an errno value.
#pragma once
#include <cstdint>

namespace phyr::eventfd {

// Largest value the counter can hold (eventfd(2): 0xfffffffffffffffe).
constexpr uint64_t kMaxCounter = 0xFFFFFFFFFFFFFFFEull;

// Creates a non-blocking, close-on-exec eventfd with counter 0; *fd receives it.
int create(int* fd);

// Adds `value` (1 .. kMaxCounter) to the counter: what a device does on an interrupt.
// EAGAIN when the counter would overflow.
int signal(int fd, uint64_t value);

// Reads and resets the counter into *count; EAGAIN when it is 0 (nothing signalled).
int drain(int fd, uint64_t* count);

// True when `fd` is an open eventfd of this process (checked through /proc/self/fd), so
// callers never read, write or close an unrelated descriptor by mistake.
bool isEventfd(int fd);

// Closes fd.
int closeFd(int fd);

// The eventfds the addon itself made, and which part of it owns each. JS may only read,
// signal, watch or close an eventfd in this table: the process holds others (libuv's own
// wake-up eventfd, Node's, a library's) that a stray number must never reach. An owner
// removes its fd (disown) before closing it. Thread-safe.
enum class Owner : uint8_t {
  EventfdRoom = 1,  // createEventfd(): JS owns it and closes it with closeFd
  Vfio = 2,         // the VFIO layer's eventfd(): closed with the VFIO closeFd
  Emu = 3,          // an emulated controller's MSI-X vector: closed by the controller
};
void own(int fd, Owner owner);
void disown(int fd);
// True when fd is in the table; *owner (if given) receives who owns it.
bool owned(int fd, Owner* owner = nullptr);
const char* ownerName(Owner owner);

}  // namespace phyr::eventfd
