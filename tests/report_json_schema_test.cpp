// SPDX-License-Identifier: GPL-2.0-only
// The JSON Schema subset validator: each keyword accepts what it should and names what it
// rejects by JSON pointer; schemas outside the subset are refused, not half-checked; and every
// file in reports/schema/ is compiled in and loads.
#include "reports/json_schema.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include <gtest/gtest.h>

namespace mmudiff {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// True when some error message starts with POINTER and contains WHAT.
bool has_error(const std::vector<std::string>& errors, const std::string& pointer,
               const std::string& what) {
  for (const auto& e : errors)
    if (e.rfind(pointer + ": ", 0) == 0 && e.find(what) != std::string::npos) return true;
  return false;
}

schema::SchemaSet one(const json& s) {
  schema::SchemaSet set;
  set.add(s);
  return set;
}

TEST(JsonSchema, TypeAcceptsListedTypesAndIntegralNumbersAsIntegers) {
  auto set = one({{"$id", "t"}, {"type", json::array({"integer", "null"})}});
  EXPECT_TRUE(set.validate(3, "t").empty());
  EXPECT_TRUE(set.validate(nullptr, "t").empty());
  EXPECT_TRUE(set.validate(4.0, "t").empty());
  auto errors = set.validate(4.5, "t");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_TRUE(has_error(errors, "(root)", "is number")) << errors[0];
  EXPECT_FALSE(set.validate("x", "t").empty());
}

TEST(JsonSchema, RequiredAndAdditionalPropertiesNameTheProperty) {
  auto set = one({{"$id", "o"},
                  {"type", "object"},
                  {"required", {"a", "b"}},
                  {"additionalProperties", false},
                  {"properties", {{"a", {{"type", "string"}}}, {"b", {{"type", "integer"}}}}}});
  EXPECT_TRUE(set.validate({{"a", "x"}, {"b", 1}}, "o").empty());
  auto errors = set.validate({{"a", 1}, {"c", true}}, "o");
  EXPECT_TRUE(has_error(errors, "(root)", "missing required property 'b'"));
  EXPECT_TRUE(has_error(errors, "/a", "expected string"));
  EXPECT_TRUE(has_error(errors, "/c", "property not in the schema"));
  EXPECT_EQ(errors.size(), 3u);
}

TEST(JsonSchema, AdditionalPropertiesAsSchemaChecksEveryOtherValue) {
  auto set = one({{"$id", "m"},
                  {"type", "object"},
                  {"additionalProperties", {{"type", "integer"}, {"minimum", 0}}}});
  EXPECT_TRUE(set.validate({{"x", 1}, {"y", 0}}, "m").empty());
  auto errors = set.validate({{"x", -1}, {"y/z", "s"}}, "m");
  EXPECT_TRUE(has_error(errors, "/x", "below the minimum 0"));
  EXPECT_TRUE(has_error(errors, "/y~1z", "expected integer"));  // pointer escaping
}

TEST(JsonSchema, EnumConstPatternAndItems) {
  auto set = one({{"$id", "a"},
                  {"type", "array"},
                  {"minItems", 2},
                  {"items",
                   {{"type", "object"},
                    {"properties",
                     {{"k", {{"enum", {"x", "y"}}}},
                      {"c", {{"const", "fixed"}}},
                      {"h", {{"type", "string"}, {"pattern", "^0x[0-9a-f]+$"}}}}}}}});
  json good = json::array({{{"k", "x"}, {"c", "fixed"}, {"h", "0x1f"}}, json::object()});
  EXPECT_TRUE(set.validate(good, "a").empty());
  auto errors = set.validate(json::array({{{"k", "z"}, {"c", "other"}, {"h", "0x1G"}}}), "a");
  EXPECT_TRUE(has_error(errors, "(root)", "at least 2"));
  EXPECT_TRUE(has_error(errors, "/0/k", "not one of"));
  EXPECT_TRUE(has_error(errors, "/0/c", "expected \"fixed\""));
  EXPECT_TRUE(has_error(errors, "/0/h", "does not match"));
}

TEST(JsonSchema, AnyOfAcceptsOneAlternativeAndReportsTheClosest) {
  auto set = one(
      {{"$id", "n"}, {"anyOf", {{{"type", "null"}}, {{"type", "object"}, {"required", {"a"}}}}}});
  EXPECT_TRUE(set.validate(nullptr, "n").empty());
  EXPECT_TRUE(set.validate({{"a", 1}}, "n").empty());
  auto errors = set.validate(json::object(), "n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("missing required property 'a'"), std::string::npos) << errors[0];
}

TEST(JsonSchema, RefsResolveToDefsAndToOtherSchemasOfTheSet) {
  schema::SchemaSet set;
  set.add({{"$id", "base"}, {"$defs", {{"hex", {{"type", "string"}, {"pattern", "^0x"}}}}}});
  set.add({{"$id", "user"},
           {"type", "object"},
           {"properties",
            {{"local", {{"$ref", "#/$defs/n"}}}, {"remote", {{"$ref", "base#/$defs/hex"}}}}},
           {"$defs", {{"n", {{"type", "integer"}}}}}});
  EXPECT_TRUE(set.validate({{"local", 1}, {"remote", "0x1"}}, "user").empty());
  auto errors = set.validate({{"local", "1"}, {"remote", "1"}}, "user");
  EXPECT_TRUE(has_error(errors, "/local", "expected integer"));
  EXPECT_TRUE(has_error(errors, "/remote", "does not match"));

  schema::SchemaSet broken;
  broken.add({{"$id", "b"}, {"$ref", "missing#/$defs/x"}});
  EXPECT_THROW(broken.validate(1, "b"), std::invalid_argument);
  EXPECT_THROW(set.validate(1, "no-such-schema"), std::invalid_argument);
}

TEST(JsonSchema, KeywordsOutsideTheSubsetAreRefusedNotIgnored) {
  schema::SchemaSet set;
  try {
    set.add({{"$id", "x"}, {"properties", {{"a", {{"maxLength", 3}}}}}});
    FAIL() << "a schema with maxLength was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("x#/properties/a/maxLength"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(set.add({{"type", "object"}}), std::invalid_argument);  // no $id
  EXPECT_THROW(set.add({{"$id", "p"}, {"pattern", "("}}), std::invalid_argument);
}

TEST(JsonSchema, EverySchemaFileIsCompiledInAndLoads) {
  const schema::SchemaSet& builtin = schema::builtin_schemas();
  std::set<std::string> on_disk;
  for (const auto& entry :
       fs::directory_iterator(fs::path(MMUDIFF_SOURCE_DIR) / "reports/schema")) {
    json s = json::parse(std::ifstream(entry.path()));
    std::string id = s["$id"];
    EXPECT_EQ(id, entry.path().filename().string()) << "a schema's $id is its file name";
    EXPECT_TRUE(builtin.has(id)) << id << " is not compiled in: re-run cmake";
    on_disk.insert(id);
  }
  for (auto id : {schema::kRun, schema::kProgress, schema::kFinding, schema::kProofs,
                  schema::kExercised, schema::kReport})
    EXPECT_TRUE(on_disk.count(std::string(id))) << id;
  // Every top-level property set to null makes each property's schema, and so each $ref at that
  // depth (report-1 into the others), resolve; a dangling one would throw.
  for (const auto& entry :
       fs::directory_iterator(fs::path(MMUDIFF_SOURCE_DIR) / "reports/schema")) {
    json s = json::parse(std::ifstream(entry.path()));
    json probe = json::object();
    for (const auto& [name, sub] : s["properties"].items()) probe[name] = nullptr;
    EXPECT_NO_THROW(builtin.validate(probe, s["$id"].get<std::string>())) << entry.path();
    EXPECT_FALSE(builtin.validate(probe, s["$id"].get<std::string>()).empty());
  }
}

}  // namespace
}  // namespace mmudiff
