#include "simile/models.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "model_test_util.h"

namespace simile {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Sets (or unsets, with nullopt) environment variables for one scope.
class ScopedEnv {
 public:
  ScopedEnv(std::vector<std::pair<std::string, std::optional<std::string>>> vars) {
    for (auto& [name, value] : vars) {
      const char* old = std::getenv(name.c_str());
      saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
      if (value)
        setenv(name.c_str(), value->c_str(), 1);
      else
        unsetenv(name.c_str());
    }
  }
  ~ScopedEnv() {
    for (auto& [name, value] : saved_) {
      if (value)
        setenv(name.c_str(), value->c_str(), 1);
      else
        unsetenv(name.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(ModelCache, DirectoryPrecedence) {
  {
    ScopedEnv env({{"SIMILE_HOME", "/srv/simile"}, {"XDG_CACHE_HOME", "/xdg"}, {"HOME", "/home/u"}});
    EXPECT_EQ(model_cache_dir(), "/srv/simile/models");
  }
  {
    ScopedEnv env({{"SIMILE_HOME", std::nullopt}, {"XDG_CACHE_HOME", "/xdg"}, {"HOME", "/home/u"}});
    EXPECT_EQ(model_cache_dir(), "/xdg/simile/models");
  }
  {
    ScopedEnv env({{"SIMILE_HOME", ""}, {"XDG_CACHE_HOME", std::nullopt}, {"HOME", "/home/u"}});
    EXPECT_EQ(model_cache_dir(), "/home/u/.cache/simile/models");
  }
}

TEST(ModelCache, ResolvesDirectoriesAndNames) {
  TempDir home;
  const auto models = home.path() / "models";
  testing::derive_model_dir(models / "mini", {}, {});
  fs::create_directories(models / "broken");
  fs::create_directories(models / ".pull-mini-123");
  ScopedEnv env({{"SIMILE_HOME", home.str()}});

  auto by_name = resolve_model_dir("mini");
  ASSERT_TRUE(by_name.is_ok()) << by_name.status().message();
  EXPECT_EQ(*by_name, (models / "mini").string());
  auto by_path = resolve_model_dir((models / "mini").string());
  ASSERT_TRUE(by_path.is_ok());
  EXPECT_EQ(*by_path, (models / "mini").string());

  auto missing = resolve_model_dir("all-MiniLM-L6-v2");
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  const std::string& msg = missing.status().message();
  EXPECT_NE(msg.find("simile models pull all-MiniLM-L6-v2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("installed: broken, mini"), std::string::npos) << msg;
  EXPECT_EQ(resolve_model_dir("").status().code(), Status::Code::kNotFound);  // "" = the default model

  testing::write_bytes(home.file("file"), "x");
  EXPECT_EQ(resolve_model_dir(home.file("file")).status().code(), Status::Code::kInvalidArgument);

  // Only usable models are listed.
  auto listed = list_models();
  ASSERT_TRUE(listed.is_ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "mini");
  EXPECT_EQ(inspect_model("broken").status().code(), Status::Code::kNotFound);
}

TEST(ModelCache, InspectsTheDefaultModelWithoutLoadingIt) {
  auto info = inspect_model(testing::default_model_dir());
  ASSERT_TRUE(info.is_ok()) << info.status().message();
  EXPECT_EQ(info->name, "all-MiniLM-L6-v2");
  EXPECT_EQ(info->architecture, "BertModel");
  EXPECT_EQ(info->model_type, "bert");
  EXPECT_EQ(info->dims, 384u);
  EXPECT_EQ(info->hidden_size, 384u);
  EXPECT_EQ(info->layers, 6u);
  EXPECT_EQ(info->heads, 12u);
  EXPECT_EQ(info->vocab_size, 30522u);
  EXPECT_EQ(info->max_tokens, 256u);
  EXPECT_EQ(info->pooling, Pooling::kMean);
  EXPECT_TRUE(info->normalize);
  EXPECT_EQ(info->dtype, "F16");
  EXPECT_EQ(info->weight_bytes, fs::file_size(testing::default_model_dir() + "/model.safetensors"));
  EXPECT_TRUE(info->prompts.empty());
}

}  // namespace
}  // namespace simile
