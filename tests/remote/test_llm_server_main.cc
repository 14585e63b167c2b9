// simile_test_llm_server: the test LLM service (test_llm_server.h) as a
// process, for the command-line tests. Prints "listening on
// http://127.0.0.1:PORT" on stderr once it listens, as `simile serve` does
// (tests/cli/lib.sh waits for that line), and runs until SIGTERM or SIGINT.
//
//   simile_test_llm_server [--port N] [--api-key KEY] [--dims D]
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "test_llm_server.h"

namespace {

int usage(const std::string& problem) {
  std::cerr << "simile_test_llm_server: " << problem << "\n"
            << "usage: simile_test_llm_server [--port N] [--api-key KEY] [--dims D]\n";
  return 2;
}

bool parse_int(const std::string& text, int min, int max, int& out) {
  try {
    size_t used = 0;
    const int v = std::stoi(text, &used);
    if (used != text.size() || v < min || v > max) return false;
    out = v;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  simile::testing::TestLlmServerOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage("a stand-in for an OpenAI-compatible LLM service, for tests");
      return 0;
    }
    if (i + 1 >= argc) return usage(arg + " needs a value");
    const std::string value = argv[++i];
    if (arg == "--port") {
      if (!parse_int(value, 0, 65535, options.port)) return usage("--port takes 0-65535, not " + value);
    } else if (arg == "--api-key") {
      options.api_key = value;
    } else if (arg == "--dims") {
      if (!parse_int(value, 1, 1 << 16, options.dims)) return usage("--dims takes 1-65536, not " + value);
    } else {
      return usage("unknown option " + arg);
    }
  }

  // Blocked before the server's threads start (they inherit the mask), so
  // the signals wait for sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  simile::testing::TestLlmServer server(options);
  if (!server.listening()) {
    std::cerr << "simile_test_llm_server: cannot listen on 127.0.0.1:" << options.port << "\n";
    return 1;
  }
  std::cerr << "simile_test_llm_server: listening on " << server.url()
            << (options.api_key.empty() ? "" : " (API key required)") << "\n"
            << std::flush;
  int received = 0;
  sigwait(&signals, &received);
  std::cerr << "simile_test_llm_server: stopping\n";
  return 0;
}
