// Runs another program (no shell involved: arguments are passed as they are).
#pragma once

#include <string>
#include <vector>

#include "simile/status.h"

namespace simile {

struct ProcessOutput {
  int exit_code = -1;
  std::string out;  // everything the program wrote to stdout
  std::string err;  // everything it wrote to stderr
};

// Runs argv[0] (looked up on PATH) with `argv`, in `cwd` if not empty, and
// waits for it. Fails only if the program could not be started; a non-zero
// exit is reported in ProcessOutput::exit_code.
Result<ProcessOutput> run_process(const std::vector<std::string>& argv, const std::string& cwd = "");

}  // namespace simile
