// How much memory this process holds, for /metrics and soak tests: telling a
// leak (heap in use keeps growing) from fragmentation (free heap grows while
// the heap in use stays flat).
#pragma once

#include <cstdint>

namespace simile {

struct ProcessMemory {
  int64_t resident = 0;   // RSS, bytes
  int64_t heap_in_use = 0;    // malloc'ed and not freed (glibc mallinfo2: uordblks + hblkhd)
  int64_t heap_free = 0;      // freed but kept by the allocator (fordblks)
};

ProcessMemory process_memory();

}  // namespace simile
