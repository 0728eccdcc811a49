// eventfd operations: counters add up and reset on read, bad values and descriptors are
// refused, and isEventfd tells eventfds from other descriptors. One case signals from
// another thread, as a device thread does.
#include <cerrno>
#include <thread>

#include "check.h"
#include "addon/eventfd/eventfd_ops.h"

using namespace phyr;

TEST(memory_eventfd_counter_adds_and_resets) {
  int fd = -1;
  CHECK_EQ(eventfd::create(&fd), 0);
  CHECK(fd > 2);
  CHECK(eventfd::isEventfd(fd));
  uint64_t count = 0;
  CHECK_EQ(eventfd::drain(fd, &count), EAGAIN);  // non-blocking: nothing yet
  CHECK_EQ(eventfd::signal(fd, 2), 0);
  CHECK_EQ(eventfd::signal(fd, 3), 0);
  CHECK_EQ(eventfd::drain(fd, &count), 0);
  CHECK_EQ(count, 5u);
  CHECK_EQ(eventfd::drain(fd, &count), EAGAIN);
  CHECK_EQ(eventfd::signal(fd, 0), EINVAL);
  CHECK_EQ(eventfd::signal(fd, eventfd::kMaxCounter + 1), EINVAL);
  CHECK_EQ(eventfd::signal(fd, eventfd::kMaxCounter), 0);
  CHECK_EQ(eventfd::signal(fd, 1), EAGAIN);  // would overflow
  CHECK_EQ(eventfd::closeFd(fd), 0);
  CHECK(!eventfd::isEventfd(fd));
  CHECK_EQ(eventfd::closeFd(fd), EBADF);
}

TEST(memory_eventfd_is_eventfd_refuses_others) {
  CHECK(!eventfd::isEventfd(-1));
  CHECK(!eventfd::isEventfd(0x7fffffff));
  CHECK(!eventfd::isEventfd(1));  // stdout is a tty, pipe or file, never an eventfd
}

TEST(memory_eventfd_thread_signals_are_seen) {
  int fd = -1;
  CHECK_EQ(eventfd::create(&fd), 0);
  std::thread device([fd] {
    for (int i = 0; i < 100; i++) eventfd::signal(fd, 1);
  });
  device.join();
  uint64_t count = 0;
  CHECK_EQ(eventfd::drain(fd, &count), 0);
  CHECK_EQ(count, 100u);
  eventfd::closeFd(fd);
}
