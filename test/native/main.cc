// Runner of the native tests (see check.h).
#include <cstring>

#include "check.h"

namespace phyr::test {
std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}
int currentFailures = 0;
}  // namespace phyr::test

int main(int argc, char** argv) {
  using namespace phyr::test;
  const char* pattern = argc > 1 ? argv[1] : "";
  int passed = 0, failed = 0;
  for (const Case& c : cases()) {
    if (*pattern && !std::strstr(c.name, pattern)) continue;
    currentFailures = 0;
    c.fn();
    if (currentFailures == 0) {
      passed++;
      std::printf("ok - %s\n", c.name);
    } else {
      failed++;
      std::printf("not ok - %s (%d failed checks)\n", c.name, currentFailures);
    }
    std::fflush(stdout);
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 && passed > 0 ? 0 : 1;
}
