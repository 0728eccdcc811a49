// A tiny native test harness: TEST(name) registers a case; CHECK/CHECK_EQ record failures
// without stopping the run. The runner prints one line per case and ends with
// "N passed, N failed". `native-tests PATTERN` runs only cases whose name contains PATTERN.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace phyr::test {

struct Case {
  const char* name;
  void (*fn)();
};
std::vector<Case>& cases();
extern int currentFailures;

struct Registrar {
  Registrar(const char* name, void (*fn)()) { cases().push_back({name, fn}); }
};

template <typename A, typename B>
void checkEq(const A& a, const B& b, const char* ea, const char* eb, const char* file, int line) {
  if (a == b) return;
  std::ostringstream os;
  os << std::hex << "0x" << +a << " != 0x" << +b;
  std::fprintf(stderr, "    %s:%d: CHECK_EQ(%s, %s) failed: %s\n", file, line, ea, eb, os.str().c_str());
  currentFailures++;
}

}  // namespace phyr::test

#define TEST(name)                                                       \
  static void name();                                                    \
  static ::phyr::test::Registrar phyr_test_reg_##name(#name, name);      \
  static void name()

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "    %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      ::phyr::test::currentFailures++;                                                 \
    }                                                                                  \
  } while (0)

#define CHECK_EQ(a, b) ::phyr::test::checkEq((a), (b), #a, #b, __FILE__, __LINE__)
