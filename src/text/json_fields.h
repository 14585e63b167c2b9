// Readers of typed fields of JSON configuration files (tokenizer.json,
// tokenizer_config.json): a missing (or null) field takes the default; a
// field of the wrong type is an error naming it ("where.key").
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "simile/status.h"

namespace simile::text {

Result<std::string> get_string(const nlohmann::json& obj, const char* where, const char* key, std::string fallback);
Result<bool> get_bool(const nlohmann::json& obj, const char* where, const char* key, bool fallback);
Result<std::optional<bool>> get_optional_bool(const nlohmann::json& obj, const char* where, const char* key);
Result<int64_t> to_int(const nlohmann::json& v, const std::string& what, int64_t lo, int64_t hi);
Result<int64_t> get_int(const nlohmann::json& obj, const char* where, const char* key, int64_t fallback, int64_t lo,
                        int64_t hi);

}  // namespace simile::text
