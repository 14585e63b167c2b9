#include "util/process_memory.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>

namespace simile {

ProcessMemory process_memory() {
  ProcessMemory m;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    long size = 0, resident = 0;
    if (std::fscanf(f, "%ld %ld", &size, &resident) == 2) m.resident = resident * sysconf(_SC_PAGESIZE);
    std::fclose(f);
  }
  const struct mallinfo2 info = mallinfo2();
  m.heap_in_use = static_cast<int64_t>(info.uordblks + info.hblkhd);
  m.heap_free = static_cast<int64_t>(info.fordblks);
  return m;
}

}  // namespace simile
