// PRP (Physical Region Page) data pointers built straight from a phyr slice
// (NVMe 1.4 §4.3). Lists chain across as many list pages as the transfer needs.
#pragma once
#include "drivers/nvme/native/dptr_types.h"

namespace phyr::nvme {

// Where a slice stops being PRP-able: every range but the first must start on a memory
// page boundary and every range but the last must end on one. Returns the byte offset
// (relative to the slice start) of the first range that breaks the rule, or
// slice.length when the whole slice is PRP-able.
uint64_t prpBreakOffset(const PhyrSlice& s, uint32_t pageSize);

// True when the slice can be described by PRP entries (including PRP1's dword alignment).
bool isPrpable(const PhyrSlice& s, uint32_t pageSize);

// Number of PRP entries the slice needs (PRP1 plus one per further memory page).
uint64_t prpEntryCount(const PhyrSlice& s, uint32_t pageSize);

// Builds PRP1/PRP2. One page: PRP2 = 0. Exactly two pages: PRP2 = the second page.
// More: PRP2 points to a list; a list page holds pageSize/8 entries, and when more remain
// its last slot points to the next list page. `pagesUsed` counts list pages taken.
DptrError buildPrp(const PhyrSlice& s, uint32_t pageSize, ListPageSource& pages, uint64_t* prp1,
                   uint64_t* prp2, uint32_t* pagesUsed);

}  // namespace phyr::nvme
