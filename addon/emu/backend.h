// Where a namespace's blocks live. Offsets and lengths are bytes within the whole store
// (namespaces are laid out one after another). Called only from the device thread.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

namespace phyr::emu {

class Backend {
 public:
  virtual ~Backend() = default;
  // Copies stored bytes into `dst` (unwritten bytes read as zeros). False on an IO error.
  virtual bool read(uint64_t off, uint8_t* dst, uint64_t len) = 0;
  virtual bool write(uint64_t off, const uint8_t* src, uint64_t len) = 0;
  // Makes [off, off + len) read as zeros; `deallocate` may also release the storage.
  virtual bool zero(uint64_t off, uint64_t len, bool deallocate) = 0;
  // Makes every completed write durable (file: fdatasync).
  virtual bool flush() = 0;
  // Bytes of storage actually held (for Identify NUSE and stats).
  virtual uint64_t allocatedBytes() const = 0;
};

// kind: "null", "ram" or "file"; `path` only for file. `bytes`: total store size.
// Returns nullptr and sets *error when the backend cannot be created.
std::unique_ptr<Backend> makeBackend(const std::string& kind, const std::string& path, uint64_t bytes,
                                     std::string* error);

}  // namespace phyr::emu
