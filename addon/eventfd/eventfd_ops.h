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

}  // namespace phyr::eventfd
