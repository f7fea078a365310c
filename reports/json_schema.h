// SPDX-License-Identifier: GPL-2.0-only
// mmudiff's JSON schemas (reports/schema/, JSON Schema draft 7) and the validation of what it
// reads and writes against them, by Debian's valijson (libvalijson-dev) over nlohmann/json.
//
// Around valijson, three things of our own: a schema must declare draft 7 (or nothing) and may use
// only keywords valijson checks or annotations, so a schema never claims more than is checked (a
// misspelt or unsupported keyword is refused, where a validator would ignore it); a $ref to
// another schema of the set resolves by its $id ("run-1.schema.json#/definitions/tool"); and each
// violation is one line, "POINTER: what is wrong", with a failed anyOf reduced to its closest
// alternative.
#pragma once

#include <map>
#include <memory>
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
inline constexpr std::string_view kSemdiff = "semdiff-1.schema.json";

class SchemaSet {
 public:
  SchemaSet();
  SchemaSet(SchemaSet&&) noexcept;
  SchemaSet& operator=(SchemaSet&&) noexcept;
  ~SchemaSet();

  // Adds a schema under its $id. Throws std::invalid_argument naming the schema and the JSON
  // pointer of the first keyword valijson does not check, a $schema other than draft 7, or a
  // pattern that is not a regular expression. A $ref that does not resolve once every schema is
  // added is refused by validate.
  void add(const nlohmann::json& schema);

  // Every violation of schema ID by VALUE, each "POINTER: what is wrong" ("/backends/0: Missing
  // required property 'name'."); empty when VALUE conforms. Throws std::invalid_argument for an
  // unknown ID or a $ref that does not resolve.
  std::vector<std::string> validate(const nlohmann::json& value, std::string_view id) const;

  bool has(std::string_view id) const { return schemas_.count(std::string(id)) != 0; }

 private:
  struct Compiled;  // valijson's parsed schemas, made on first use (every $ref needs its target)

  std::map<std::string, nlohmann::json, std::less<>> schemas_;
  std::unique_ptr<Compiled> compiled_;
};

// The schemas in reports/schema/, compiled into the binary.
const SchemaSet& builtin_schemas();

}  // namespace mmudiff::schema
