// The parts of fio 3.33's external-engine ABI this engine uses, declared here because
// Debian's fio package ships no headers. Every fact below (field order, types, enum values,
// offsets on x86-64 Linux) is taken from fio 3.33's own sources, cited per declaration; the
// static_asserts pin each offset this engine relies on, so a declaration that drifts from
// those facts fails the build instead of corrupting fio's memory.
//
// Only what is read or written is declared: a struct's tail (or head) that the engine never
// touches is either left out (the engine never allocates these structs: fio does) or is
// opaque padding of the stated size.
#pragma once
#include <cstddef>
#include <cstdint>
#include <ctime>

namespace fio {

// ioengines.h: FIO_IOOPS_VERSION. fio refuses an external engine of another version.
constexpr int kIoopsVersion = 31;

// ioengines.h: enum fio_q_status (what ->queue() returns).
enum QueueStatus : int { kQCompleted = 0, kQQueued = 1, kQBusy = 2 };

// ioengines.h: enum fio_ioengine_flags (the bits used here).
constexpr int kFlagDisklessIo = 1 << 2;  // FIO_DISKLESSIO: no file on a disk behind it
constexpr int kFlagNoDiskUtil = 1 << 4;  // FIO_NODISKUTIL: no disk statistics for filename
constexpr int kFlagMemAlign = 1 << 9;    // FIO_MEMALIGN: buffers page-aligned inside ->iomem_alloc's memory

// io_ddir.h: enum fio_ddir.
enum Ddir : int { kRead = 0, kWrite = 1, kTrim = 2, kSync = 3, kDataSync = 4, kSyncFileRange = 5 };

// parse.h: enum fio_opt_type (the values used here).
enum OptType : int { kOptStrStore = 6, kOptInt = 8 };

// optgroup.h: enum opt_category_group — FIO_OPT_C_ENGINE is 1 << __FIO_OPT_C_ENGINE (6),
// FIO_OPT_G_INVALID is 1 << __FIO_OPT_G_NR (40 in 3.33): "no group", shown in --enghelp.
constexpr uint64_t kCategoryEngine = 1ull << 6;
constexpr uint64_t kGroupInvalid = 1ull << 40;

struct ThreadData;  // fio.h: struct thread_data, reached only at the offsets below
struct FioFile;     // file.h: struct fio_file, reached only at the offsets below

// flist.h: struct flist_head.
struct ListHead {
  ListHead* next;
  ListHead* prev;
};

// parse.h: struct value_pair (PARSE_MAX_VP = 32 of them in struct fio_option).
struct ValuePair {
  const char* ival;
  unsigned long long oval;
  const char* help;
  int orval;
  void* cb;
};
static_assert(sizeof(ValuePair) == 40, "fio 3.33 parse.h struct value_pair");

// parse.h: struct fio_option.
struct Option {
  const char* name;
  const char* lname;
  const char* alias;
  OptType type;
  unsigned int off1, off2, off3, off4, off5, off6;
  unsigned long long maxval;
  int minval;
  double maxfp;
  double minfp;
  unsigned int interval;
  unsigned int maxlen;
  int neg;
  int prio;
  void* cb;
  const char* help;
  const char* def;
  ValuePair posval[32];
  const char* parent;
  int hide;
  int hide_on_set;
  const char* inverse;
  Option* inv_opt;
  int (*verify)(const Option*, void*);
  const char* prof_name;
  void* prof_opts;
  uint64_t category;
  uint64_t group;
  void* gui_data;
  int is_seconds;
  int is_time;
  int no_warn_def;
  int pow2;
  int no_free;
};
static_assert(offsetof(Option, type) == 24 && offsetof(Option, off1) == 28 && offsetof(Option, maxval) == 56 &&
              offsetof(Option, minval) == 64 && offsetof(Option, help) == 112 && offsetof(Option, def) == 120 &&
              offsetof(Option, posval) == 128 && offsetof(Option, parent) == 1408 &&
              offsetof(Option, category) == 1464 && offsetof(Option, group) == 1472 && sizeof(Option) == 1512,
              "fio 3.33 parse.h struct fio_option");

// io_u.h: struct io_u, up to the engine's private union (the rest is fio's).
struct IoU {
  timespec start_time;
  timespec issue_time;
  FioFile* file;
  unsigned int flags;
  Ddir ddir;
  Ddir acct_ddir;
  unsigned short numberio;
  unsigned short ioprio;
  unsigned short clat_prio_index;
  unsigned long long buflen;
  unsigned long long offset;  // the transfer's byte offset in the file
  unsigned long long verify_offset;
  void* buf;
  uint64_t rand_seed;
  void* xfer_buf;  // what to transfer: the engine's view
  unsigned long long xfer_buflen;
  unsigned long long buf_filled_len;
  void* ipo;
  unsigned long long resid;
  unsigned int error;  // an errno; 0 = success
  union {
    unsigned int index;
    void* engine_data;
  };
};
static_assert(offsetof(IoU, file) == 32 && offsetof(IoU, ddir) == 44 && offsetof(IoU, offset) == 72 &&
              offsetof(IoU, xfer_buf) == 104 && offsetof(IoU, xfer_buflen) == 112 && offsetof(IoU, resid) == 136 &&
              offsetof(IoU, error) == 144 && offsetof(IoU, engine_data) == 152,
              "fio 3.33 io_u.h struct io_u");

// ioengines.h: struct ioengine_ops (version 31).
struct IoengineOps {
  ListHead list;
  const char* name;
  int version;
  int flags;
  void* dlhandle;
  int (*setup)(ThreadData*);
  int (*init)(ThreadData*);
  int (*post_init)(ThreadData*);
  int (*prep)(ThreadData*, IoU*);
  QueueStatus (*queue)(ThreadData*, IoU*);
  int (*commit)(ThreadData*);
  int (*getevents)(ThreadData*, unsigned int, unsigned int, const timespec*);
  IoU* (*event)(ThreadData*, int);
  char* (*errdetails)(IoU*);
  int (*cancel)(ThreadData*, IoU*);
  void (*cleanup)(ThreadData*);
  int (*open_file)(ThreadData*, FioFile*);
  int (*close_file)(ThreadData*, FioFile*);
  int (*invalidate)(ThreadData*, FioFile*);
  int (*unlink_file)(ThreadData*, FioFile*);
  int (*get_file_size)(ThreadData*, FioFile*);
  int (*prepopulate_file)(ThreadData*, FioFile*);
  void (*terminate)(ThreadData*);
  int (*iomem_alloc)(ThreadData*, size_t);
  void (*iomem_free)(ThreadData*);
  int (*io_u_init)(ThreadData*, IoU*);
  void (*io_u_free)(ThreadData*, IoU*);
  void* get_zoned_model;
  void* report_zones;
  void* reset_wp;
  void* get_max_open_zones;
  int option_struct_size;
  Option* options;
};
static_assert(offsetof(IoengineOps, name) == 16 && offsetof(IoengineOps, version) == 24 && offsetof(IoengineOps, flags) == 28 &&
              offsetof(IoengineOps, init) == 48 && offsetof(IoengineOps, queue) == 72 && offsetof(IoengineOps, commit) == 80 &&
              offsetof(IoengineOps, getevents) == 88 && offsetof(IoengineOps, event) == 96 && offsetof(IoengineOps, cleanup) == 120 &&
              offsetof(IoengineOps, open_file) == 128 && offsetof(IoengineOps, close_file) == 136 &&
              offsetof(IoengineOps, get_file_size) == 160 && offsetof(IoengineOps, iomem_alloc) == 184 &&
              offsetof(IoengineOps, iomem_free) == 192 && offsetof(IoengineOps, option_struct_size) == 248 &&
              offsetof(IoengineOps, options) == 256 && sizeof(IoengineOps) == 264,
              "fio 3.33 ioengines.h struct ioengine_ops");

// fio.h: struct thread_data. Five fields, by offset (x86-64, fio 3.33): `eo` (the engine's
// option struct fio allocated, option_struct_size bytes) follows `struct thread_options o`,
// which has no conditional fields; `o.iodepth`; `orig_buffer` / `orig_buffer_size` are the IO buffer
// memory ->iomem_alloc must provide. The engine's own state is thread-local (one fio job
// thread drives one engine instance), so td->io_ops_data is not used.
constexpr size_t kTdEo = 4216;
// thread_options.h: struct thread_options's `unsigned int iodepth`, at 184 in o (o at 24).
constexpr size_t kTdIodepth = 208;
constexpr size_t kTdOrigBuffer = 189056;
constexpr size_t kTdOrigBufferSize = 189064;
static_assert(kTdOrigBufferSize == kTdOrigBuffer + sizeof(char*), "fio 3.33 fio.h: orig_buffer_size follows orig_buffer");
// `struct ioengine_ops *io_ops`: the ops the engine handed fio (load_ioengine returns the
// engine's own struct), read only to check this layout against the running fio.
constexpr size_t kTdIoOps = 189952;
static_assert(kTdIoOps > kTdOrigBufferSize && kTdEo < kTdOrigBuffer, "fio 3.33 fio.h: eo, orig_buffer, io_ops in this order");

// file.h: struct fio_file — file_name (char*), real_file_size (uint64_t), the flags enum
// (FIO_FILE_size_known = 1 << 4 says real_file_size is valid).
constexpr size_t kFileName = 40;
constexpr size_t kFileRealSize = 48;
constexpr size_t kFileFlags = 364;
constexpr uint32_t kFileSizeKnown = 1u << 4;

template <typename T>
inline T& at(void* base, size_t offset) {
  return *reinterpret_cast<T*>(static_cast<char*>(base) + offset);
}

}  // namespace fio
