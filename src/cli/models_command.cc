// simile models pull|list|info: the model cache.
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "simile/models.h"

namespace simile::cli {

namespace {

std::string human_size(uint64_t bytes) {
  if (bytes >= (1ull << 30)) return fmt::format("{:.1f} GiB", bytes / double(1ull << 30));
  if (bytes >= (1ull << 20)) return fmt::format("{:.1f} MiB", bytes / double(1ull << 20));
  return fmt::format("{:.1f} KiB", bytes / 1024.0);
}

nlohmann::json info_json(const ModelInfo& m) {
  nlohmann::json prompts = nlohmann::json::object();
  for (const auto& [name, prefix] : m.prompts) prompts[name] = prefix;
  return {{"name", m.name},
          {"dir", m.dir},
          {"architecture", m.architecture},
          {"model_type", m.model_type},
          {"dims", m.dims},
          {"hidden_size", m.hidden_size},
          {"layers", m.layers},
          {"heads", m.heads},
          {"vocab_size", m.vocab_size},
          {"max_tokens", m.max_tokens},
          {"pooling", to_string(m.pooling)},
          {"normalize", m.normalize},
          {"dtype", m.dtype},
          {"weight_bytes", m.weight_bytes},
          {"prompts", prompts},
          {"default_prompt_name", m.default_prompt_name},
          {"fingerprint", m.fingerprint}};
}

void log_line(const std::string& line) { std::cerr << line << "\n"; }

void add_pull(CLI::App* models) {
  auto name = std::make_shared<std::string>();
  CLI::App* cmd = models->add_subcommand("pull", "download a model into the cache and verify it");
  cmd->add_option("name", *name, "model name (simile models pull --list shows them)");
  auto list = std::make_shared<bool>(false);
  cmd->add_flag("--list", *list, "list the models that can be pulled");
  cmd->callback([name, list] {
    if (*list || name->empty()) {
      for (const auto& n : pullable_models()) std::cout << n << "\n";
      if (name->empty() && !*list) throw CliError("which model? (names above)");
      return;
    }
    std::string dir = take(pull_model(*name, log_line));
    std::cout << dir << "\n";
  });
}

void add_list(CLI::App* models) {
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = models->add_subcommand("list", "list the models in the cache");
  cmd->add_flag("--json", *json, "print a JSON array");
  cmd->callback([json] {
    std::vector<ModelInfo> all = take(list_models());
    if (*json) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& m : all) arr.push_back(info_json(m));
      std::cout << arr.dump(2) << "\n";
      return;
    }
    if (all.empty()) {
      std::cout << "no models in " << model_cache_dir() << " (try: simile models pull " << kDefaultModel << ")\n";
      return;
    }
    std::cout << fmt::format("{:<28} {:<16} {:>5} {:>10} {:<14} {:<5} {:>10}\n", "NAME", "ARCHITECTURE", "DIMS",
                             "MAX TOKENS", "POOLING", "DTYPE", "SIZE");
    for (const auto& m : all)
      std::cout << fmt::format("{:<28} {:<16} {:>5} {:>10} {:<14} {:<5} {:>10}\n", m.name, m.architecture, m.dims,
                               m.max_tokens, to_string(m.pooling) + (m.normalize ? "+norm" : ""), m.dtype,
                               human_size(m.weight_bytes));
  });
}

void add_info(CLI::App* models) {
  auto name = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  CLI::App* cmd = models->add_subcommand("info", "show a model's configuration");
  cmd->add_option("model", *name, "cache name or directory")->required();
  cmd->add_flag("--json", *json, "print JSON");
  cmd->callback([name, json] {
    ModelInfo m = take(inspect_model(*name));
    if (*json) {
      std::cout << info_json(m).dump(2) << "\n";
      return;
    }
    std::string prompts;
    for (const auto& [n, p] : m.prompts) prompts += (prompts.empty() ? "" : ", ") + n + "=\"" + p + "\"";
    std::cout << fmt::format(
        "name:          {}\ndirectory:     {}\narchitecture:  {} ({})\ndimensions:    {}\nlayers:        {} "
        "(hidden {}, {} heads)\nvocabulary:    {}\nmax tokens:    {}\npooling:       {}\nnormalize:     "
        "{}\nweights:       {}, {}\nprompts:       {}\n",
        m.name, m.dir, m.architecture, m.model_type, m.dims, m.layers, m.hidden_size, m.heads, m.vocab_size,
        m.max_tokens, to_string(m.pooling), m.normalize ? "yes (L2)" : "no", m.dtype, human_size(m.weight_bytes),
        prompts.empty() ? "none" : prompts);
  });
}

}  // namespace

void add_models_command(CLI::App& app) {
  CLI::App* models = app.add_subcommand("models", "manage models: pull, list, info");
  models->require_subcommand(1);
  add_pull(models);
  add_list(models);
  add_info(models);
}

}  // namespace simile::cli
