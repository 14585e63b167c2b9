// safetensors files from anywhere: SafetensorsFile::open must reject a bad
// header, dtype, shape or byte range as corrupt (never read outside the
// file), and every tensor of a file it accepts must be readable.
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "model/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = simile::fuzz::write_scratch("model.safetensors", simile::fuzz::as_text(data, size));
  auto file = simile::SafetensorsFile::open(path);
  if (!file.is_ok()) return 0;
  for (const simile::TensorView& t : (*file)->tensors()) {
    FUZZ_CHECK(t.nbytes == t.numel() * simile::dtype_size(t.dtype), "%s: %llu bytes for %llu values", t.name.c_str(),
               static_cast<unsigned long long>(t.nbytes), static_cast<unsigned long long>(t.numel()));
    // Reading every byte: ASan reports any range outside the mapping.
    volatile uint8_t sink = 0;
    for (uint64_t i = 0; i < t.nbytes; ++i) sink = sink ^ t.data[i];
    if (t.numel() <= (uint64_t{1} << 20)) {
      auto values = simile::WeightFiles::to_f32(t);
      if (values.is_ok()) FUZZ_CHECK(values->size() == t.numel());
    }
  }
  auto weights = simile::WeightFiles::open(path);
  FUZZ_CHECK(weights.is_ok(), "WeightFiles rejects a file SafetensorsFile accepts: %s",
             weights.status().message().c_str());
  for (const std::string& name : (*weights)->names()) FUZZ_CHECK((*weights)->find(name) != nullptr);
  return 0;
}
