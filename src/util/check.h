// Assertions for broken invariants (programming errors, never user input):
// they abort with file:line so the bug is found, not hidden.
#pragma once

#include <cstdio>
#include <cstdlib>

#define SIMILE_CHECK(cond)                                                          \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)
