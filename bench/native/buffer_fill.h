// What a write puts in its data buffer, with fio's meaning for its buffer options
// (zero_buffers, buffer_pattern, buffer_compress_percentage / _chunk, dedupe_percentage,
// refill_buffers, scramble_buffers). The job thread fills every slot once before the first
// IO; per write IO it refills (refill_buffers) or scrambles (fio's default) only the IO's
// bytes, in place, with no allocation.
#pragma once
#include <cstdint>

namespace phyr::bench {

// A byte pattern (fio's buffer_pattern / verify_pattern), repeated over a buffer from its
// start. fio keeps at most 512 bytes of a pattern.
struct BytePattern {
  static constexpr uint32_t kMaxBytes = 512;
  uint32_t bytes = 0;  // 0 = no pattern
  uint8_t data[kMaxBytes] = {};
};

// How a buffer is filled (fio's fill_io_buffer, in its order of precedence).
enum class FillKind : uint32_t {
  kRandom = 0,    // pseudo-random bytes (fio's default)
  kZero = 1,      // zero_buffers
  kPattern = 2,   // buffer_pattern
  kCompress = 3,  // buffer_compress_percentage and/or dedupe_percentage: per chunk, a random
                  // part then the pattern (or zeros); whole buffers repeat for dedupe
};

struct BufferFill {
  FillKind kind = FillKind::kRandom;
  bool refill = false;    // refill every write's bytes before it is submitted
  bool scramble = false;  // fio's small_content_scramble on every write (when not refilled)
  uint32_t compressPercent = 0;  // 0..99: the share of each chunk that is the fixed part
  uint32_t compressChunk = 512;  // 0 = the write's smallest block size
  uint32_t dedupePercent = 0;    // 0..100: the share of buffers that repeat an earlier one
  // fio's dedupe_mode=working_set: a dedupe buffer is one of this many pages, picked at
  // random (0 = repeat mode), with this chance in 1/10000 (the working set's pages count
  // among the unique ones, so the chance is above dedupePercent; see buffers.ts).
  uint64_t dedupeWorkingSetPages = 0;
  uint32_t dedupeWorkingSetChance = 0;
  uint32_t minWriteBytes = 4096; // the smallest write block size (fio's min_bs for writes)
  BytePattern pattern;           // kPattern, or the fixed part of kCompress (none = zeros)
};

// Fills `len` bytes with `pattern` repeated from `buf`'s first byte.
void fillPattern(uint8_t* buf, uint64_t len, const BytePattern& pattern);

// fio's scramble: in every 512-byte piece of a write, the piece's byte offset (8 bytes) at
// one of its eight 64-byte lines (chosen from the timestamp and the offset) and the
// timestamp (16 bytes) at the end of its first line, so no two writes are identical.
void scrambleBuffer(uint8_t* buf, uint64_t len, uint64_t offset, uint64_t stamp);

// The generator state a job's buffer fills draw from (one per job thread).
class BufferFiller {
 public:
  BufferFiller(const BufferFill& f, uint64_t seed);
  // One buffer of `len` bytes, as fio's fill_io_buffer does it.
  void fill(uint8_t* buf, uint64_t len);

 private:
  uint64_t* pickState();  // dedupe: the state to draw this buffer from
  void saveState(uint64_t* used);
  void fillChunk(uint64_t seed, uint8_t* buf, uint64_t len);

  const BufferFill& f_;
  uint64_t state_;      // the next unique buffer's seed source
  uint64_t prev_;       // the state an identical (dedupe) buffer is drawn from
  uint64_t ret_ = 0;    // a copy of prev_ for a dedupe buffer, advanced in its place
  uint64_t dedupe_;     // draws whether a buffer repeats
  uint64_t workingSet_; // working_set: page i's data is drawn from mix64(workingSet_ + i)
};

// Pseudo-random bytes from `seed` (64 bits a step, four independent lanes).
void fillRandom(uint8_t* buf, uint64_t len, uint64_t seed);

}  // namespace phyr::bench
