// SPDX-License-Identifier: GPL-2.0-only
// A validator for the part of JSON Schema (draft 2020-12) that mmudiff's own schemas use. Debian
// ships no C++ JSON Schema validator, so this is ours; it refuses a schema that uses any keyword
// outside its subset rather than silently ignoring it, so a schema can never claim more than is
// checked.
//
// Keywords: type (a name or a list), enum, const, required, properties, additionalProperties
// (false or a schema), items (one schema), minItems, minimum, pattern (ECMAScript, unanchored as
// JSON Schema says), anyOf, and $ref to another schema of the set by $id, optionally with a
// "#/$defs/NAME" fragment. Annotations: $schema, $id, $defs, $comment, title, description.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mmudiff::schema {

// The schemas mmudiff writes against, by $id (reports/schema/NAME.schema.json).
inline constexpr std::string_view kRun = "run-1.schema.json";
inline constexpr std::string_view kProgress = "progress-1.schema.json";
inline constexpr std::string_view kFinding = "finding-1.schema.json";
inline constexpr std::string_view kProofs = "proofs-1.schema.json";
inline constexpr std::string_view kExercised = "exercised-1.schema.json";
inline constexpr std::string_view kCoverage = "coverage-1.schema.json";
inline constexpr std::string_view kReport = "report-1.schema.json";

class SchemaSet {
 public:
  // Adds a schema under its $id. Throws std::invalid_argument naming the schema and the JSON
  // pointer of the first keyword outside the subset, or a $ref that does not resolve once every
  // schema is added (checked by validate).
  void add(const nlohmann::json& schema);

  // Every violation of schema ID by VALUE, each "POINTER: what is wrong" ("/backends/0: missing
  // required property 'name'"); empty when VALUE conforms. Throws std::invalid_argument for an
  // unknown ID or a $ref that does not resolve.
  std::vector<std::string> validate(const nlohmann::json& value, std::string_view id) const;

  bool has(std::string_view id) const { return schemas_.count(std::string(id)) != 0; }

 private:
  void check_keywords(const nlohmann::json& schema, const std::string& where) const;
  const nlohmann::json& resolve(const std::string& ref, const std::string& base) const;
  void check(const nlohmann::json& value, const nlohmann::json& schema, const std::string& base,
             const std::string& pointer, std::vector<std::string>* errors) const;

  std::map<std::string, nlohmann::json> schemas_;
};

// The schemas in reports/schema/, compiled into the binary.
const SchemaSet& builtin_schemas();

}  // namespace mmudiff::schema
