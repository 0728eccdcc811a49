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
  // Makes every completed write durable (file: fdatasync). False on an IO error.
  virtual bool flush() = 0;
  // True when flush() reaches storage that outlives the process (the file backend); the
  // controller counts those flushes in stats().syncs.
  virtual bool persistent() const { return false; }
  // Bytes of storage actually held (for Identify NUSE and stats).
  virtual uint64_t allocatedBytes() const = 0;
  // False for the nodata backend: Read and Write move no data between host memory and the
  // store (the data pointer is still walked and checked); read()/write() above are then
  // only the device's own accesses (Compare, the corrupt fault), and read zeros.
  virtual bool movesData() const { return true; }
};

/** Why a backend could not be created: a stable code (emu/ maps it to an error class). */
struct BackendError {
  // "PHYR_EMU_BACKEND" (unusable path: its type, filesystem or size) or
  // "PHYR_EMU_IMAGE_LOCKED" (another controller, in this process or another, holds it).
  std::string code;
  std::string message;
  int64_t holderPid = 0;   // PHYR_EMU_IMAGE_LOCKED: the holder's pid when known (else 0)
  std::string holderCommand;  // its command line when readable
};

// kind: "nodata", "null", "ram" or "file"; `path` only for file. `bytes`: total store size.
// Returns nullptr and fills *error when the backend cannot be created.
std::unique_ptr<Backend> makeBackend(const std::string& kind, const std::string& path, uint64_t bytes,
                                     BackendError* error);

}  // namespace phyr::emu
