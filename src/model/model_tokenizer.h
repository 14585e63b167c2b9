// A model's tokenizer as transformers sets it up: tokenizer.json, plus the
// special tokens tokenizer_config.json asks for.
//
// transformers' Llama-style tokenizer classes (LlamaTokenizer[Fast],
// CodeLlamaTokenizer[Fast], GemmaTokenizer[Fast]) ignore tokenizer.json's
// post-processor and rebuild it from add_bos_token (default true) and
// add_eos_token (default false): e5-mistral-7b-instruct appends </s> this
// way. Any other class keeps tokenizer.json's post-processor (Qwen3-Embedding
// appends <|endoftext|> there) unless add_bos_token or add_eos_token is set
// true, which transformers 5 honours for every class.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "model/config.h"
#include "simile/status.h"
#include "simile/tokenizer.h"

namespace simile {

// The template to build from tokenizer_config.json (and the token names in
// special_tokens_map.json) in the model directory `dir`, or nullopt when
// tokenizer.json's own post-processor stands.
Result<std::optional<BosEosTemplate>> read_bos_eos_template(const std::string& dir);

// The tokenizer of a described model as its Embedder runs it: the template
// applied, truncation at model.max_tokens, no padding (batches are packed).
Result<std::unique_ptr<Tokenizer>> load_model_tokenizer(const ModelDescription& model);

}  // namespace simile
