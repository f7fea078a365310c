// SPDX-License-Identifier: GPL-2.0-only
// JSON Schema validation through valijson (reports/json_schema.h): each keyword accepts what it
// should and names what it rejects by JSON pointer; schemas that claim checks valijson does not
// make are refused, not half-checked; every file in reports/schema/ is compiled in and loads; and
// a handful of cases of Debian's JSON-Schema-Test-Suite (draft 7) come out as the suite says.
#include "reports/json_schema.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
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
  EXPECT_TRUE(has_error(errors, "(root)", "Missing required property 'b'"));
  EXPECT_TRUE(has_error(errors, "/a", "'type' constraint. (is number)"));
  EXPECT_TRUE(
      has_error(errors, "(root)",
                "not be validated using 'properties' or 'additionalProperties' constraints: 'c'"));
  EXPECT_EQ(errors.size(), 3u);
}

TEST(JsonSchema, AdditionalPropertiesAsSchemaChecksEveryOtherValue) {
  auto set = one({{"$id", "m"},
                  {"type", "object"},
                  {"additionalProperties", {{"type", "integer"}, {"minimum", 0}}}});
  EXPECT_TRUE(set.validate({{"x", 1}, {"y", 0}}, "m").empty());
  auto errors = set.validate({{"x", -1}, {"y/z", "s"}}, "m");
  EXPECT_TRUE(has_error(errors, "/x", "greater than or equal to 0"));
  EXPECT_TRUE(has_error(errors, "/y~1z", "'type' constraint. (is string)"));  // pointer escaping
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
  EXPECT_TRUE(has_error(errors, "(root)", "no fewer than 2 elements"));
  EXPECT_TRUE(has_error(errors, "/0/k", "enum values. (is \"z\")"));
  EXPECT_TRUE(has_error(errors, "/0/c", "'const' constraint. (is \"other\")"));
  EXPECT_TRUE(has_error(errors, "/0/h", "'pattern' constraint. (is \"0x1G\")"));
}

TEST(JsonSchema, AnyOfAcceptsOneAlternativeAndReportsTheClosest) {
  auto set = one(
      {{"$id", "n"}, {"anyOf", {{{"type", "null"}}, {{"type", "object"}, {"required", {"a"}}}}}});
  EXPECT_TRUE(set.validate(nullptr, "n").empty());
  EXPECT_TRUE(set.validate({{"a", 1}}, "n").empty());
  auto errors = set.validate(json::object(), "n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("matches none of anyOf; closest: (root): Missing required property 'a'"),
            std::string::npos)
      << errors[0];
}

TEST(JsonSchema, RefsResolveToDefsAndToOtherSchemasOfTheSet) {
  schema::SchemaSet set;
  set.add({{"$id", "base"}, {"definitions", {{"hex", {{"type", "string"}, {"pattern", "^0x"}}}}}});
  set.add({{"$id", "user"},
           {"type", "object"},
           {"properties",
            {{"local", {{"$ref", "#/definitions/n"}}},
             {"remote", {{"$ref", "base#/definitions/hex"}}}}},
           {"definitions", {{"n", {{"type", "integer"}}}}}});
  EXPECT_TRUE(set.validate({{"local", 1}, {"remote", "0x1"}}, "user").empty());
  auto errors = set.validate({{"local", "1"}, {"remote", "1"}}, "user");
  EXPECT_TRUE(has_error(errors, "/local", "(is string)"));
  EXPECT_TRUE(has_error(errors, "/remote", "'pattern'"));

  schema::SchemaSet broken;
  broken.add({{"$id", "b"}, {"$ref", "missing#/definitions/x"}});
  EXPECT_THROW(broken.validate(1, "b"), std::invalid_argument);
  EXPECT_THROW(set.validate(1, "no-such-schema"), std::invalid_argument);
}

// A validator ignores what it does not know; a schema that claims a check nobody makes (a
// misspelt keyword, "format", another draft, a keyword beside $ref) is refused instead.
TEST(JsonSchema, KeywordsValijsonDoesNotCheckAreRefusedNotIgnored) {
  schema::SchemaSet set;
  try {
    set.add({{"$id", "x"}, {"properties", {{"a", {{"maxLenght", 3}}}}}});
    FAIL() << "a schema with a misspelt keyword was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("x#/properties/a/maxLenght"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(set.add({{"$id", "f"}, {"format", "date-time"}}), std::invalid_argument);
  try {
    set.add({{"$id", "later"}, {"$defs", {{"a", {{"type", "string"}}}}}});
    FAIL() << "$defs (draft 2019-09 and later) was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("later#/$defs: draft 7 names this \"definitions\""),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(set.add({{"$id", "d"}, {"$schema", "https://json-schema.org/draft/2020-12/schema"}}),
               std::invalid_argument);
  EXPECT_THROW(set.add({{"$id", "r"}, {"$ref", "#/definitions/a"}, {"minimum", 1}}),
               std::invalid_argument);
  EXPECT_THROW(set.add({{"type", "object"}}), std::invalid_argument);  // no $id
  EXPECT_THROW(set.add({{"$id", "p"}, {"pattern", "("}}), std::invalid_argument);
  // What draft 7 has and valijson checks is accepted, and checked.
  set.add({{"$id", "ok"},
           {"$schema", "http://json-schema.org/draft-07/schema#"},
           {"type", "string"},
           {"maxLength", 3}});
  EXPECT_TRUE(set.validate("abc", "ok").empty());
  EXPECT_FALSE(set.validate("abcd", "ok").empty());
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

// The wiring (our adapter, $id injection, integral numbers, anyOf collapsing) must not change
// valijson's answers: every case of the suite's files for the keywords our schemas use comes out
// as the suite says. A group whose schema our guard refuses (a keyword beside $ref, "format") is
// not run; most are.
TEST(JsonSchema, AgreesWithTheJsonSchemaTestSuiteOnTheKeywordsOurSchemasUse) {
  const fs::path suite = "/usr/share/json-schema-test-suite/tests/draft7";
  ASSERT_TRUE(fs::is_directory(suite))
      << suite << ": install json-schema-test-suite (tools/setup.sh)";
  size_t cases = 0, groups = 0, refused = 0;
  for (const char* keyword :
       {"type", "enum", "const", "required", "properties", "additionalProperties", "items",
        "minItems", "minimum", "pattern", "anyOf", "ref", "definitions"}) {
    fs::path file = suite / (std::string(keyword) + ".json");
    json groups_of_file = json::parse(std::ifstream(file));
    for (const auto& group : groups_of_file) {
      json schema = group["schema"];
      if (!schema.is_object()) continue;  // boolean schemas: our sets hold objects with an $id
      std::string id = fmt::format("suite-{}", groups++);
      schema["$id"] = id;
      schema::SchemaSet set;
      try {
        set.add(schema);
        set.validate(nullptr, id);  // resolves every $ref
      } catch (const std::invalid_argument&) {
        ++refused;
        continue;
      }
      for (const auto& test : group["tests"]) {
        ++cases;
        bool valid = set.validate(test["data"], id).empty();
        EXPECT_EQ(valid, test["valid"].get<bool>())
            << file.filename() << ": " << group["description"] << ": " << test["description"];
      }
    }
  }
  EXPECT_GE(cases, 150u);
  EXPECT_LE(refused * 5, groups) << "most groups must run, not be refused";
}

}  // namespace
}  // namespace mmudiff
