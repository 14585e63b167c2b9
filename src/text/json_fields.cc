#include "text/json_fields.h"

namespace simile::text {

using json = nlohmann::json;

Result<std::string> get_string(const json& obj, const char* where, const char* key, std::string fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_string()) return Status::corrupt(std::string(where) + "." + key + " must be a string");
  return it->get<std::string>();
}

Result<bool> get_bool(const json& obj, const char* where, const char* key, bool fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return Status::corrupt(std::string(where) + "." + key + " must be true or false");
  return it->get<bool>();
}

Result<std::optional<bool>> get_optional_bool(const json& obj, const char* where, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<bool>();
  if (!it->is_boolean()) return Status::corrupt(std::string(where) + "." + key + " must be true, false or null");
  return std::optional<bool>(it->get<bool>());
}

Result<int64_t> to_int(const json& v, const std::string& what, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) return Status::corrupt(what + " must be an integer");
  const int64_t x = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi) ? hi + 1 : v.get<int64_t>();
  if (x < lo || x > hi) return Status::corrupt(what + " is out of range (" + std::to_string(x) + ")");
  return x;
}

Result<int64_t> get_int(const json& obj, const char* where, const char* key, int64_t fallback, int64_t lo, int64_t hi) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  return to_int(*it, std::string(where) + "." + key, lo, hi);
}

}  // namespace simile::text
