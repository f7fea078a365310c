// SPDX-License-Identifier: GPL-2.0-only
#include "reports/json_schema.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <regex>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "reports/builtin_schemas.h"

namespace mmudiff::schema {

using nlohmann::json;

struct SchemaSet::Compiled {
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<valijson::Schema>, std::less<>> by_id;
};

namespace {

constexpr std::string_view kDraft7 = "http://json-schema.org/draft-07/schema#";

// Draft 7's keywords that valijson checks, and the annotations that check nothing. "format" is
// left out: valijson checks only a few of its values, so a schema must not rely on it.
const std::set<std::string, std::less<>>& validation_keywords() {
  static const std::set<std::string, std::less<>> keywords = {
      "type",
      "enum",
      "const",
      "multipleOf",
      "maximum",
      "exclusiveMaximum",
      "minimum",
      "exclusiveMinimum",
      "maxLength",
      "minLength",
      "pattern",
      "items",
      "additionalItems",
      "maxItems",
      "minItems",
      "uniqueItems",
      "contains",
      "maxProperties",
      "minProperties",
      "required",
      "properties",
      "patternProperties",
      "additionalProperties",
      "dependencies",
      "propertyNames",
      "if",
      "then",
      "else",
      "allOf",
      "anyOf",
      "oneOf",
      "not",
  };
  return keywords;
}

const std::set<std::string, std::less<>>& annotation_keywords() {
  static const std::set<std::string, std::less<>> keywords = {
      "$schema",     "$id",         "$ref",    "$comment", "title",
      "description", "definitions", "default", "examples"};
  return keywords;
}

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

// Every keyword of SCHEMA (at WHERE, a JSON pointer into its file) and of its subschemas is one
// valijson checks or an annotation; every pattern compiles.
void check_keywords(const json& schema, const std::string& where) {
  if (schema.is_boolean()) return;
  if (!schema.is_object()) throw std::invalid_argument(where + ": a schema must be an object");
  bool has_ref = schema.contains("$ref");
  for (const auto& [key, sub] : schema.items()) {
    std::string at = where + "/" + escape_pointer_token(key);
    bool validates = validation_keywords().count(key) != 0;
    if (key == "$defs")  // the easiest slip when moving a schema from a later draft
      throw std::invalid_argument(at + ": draft 7 names this \"definitions\"");
    if (!validates && !annotation_keywords().count(key))
      throw std::invalid_argument(at + ": keyword valijson does not check (draft 7)");
    if (validates && has_ref) throw std::invalid_argument(at + ": ignored beside $ref in draft 7");
    if (key == "properties" || key == "patternProperties" || key == "definitions") {
      if (!sub.is_object()) throw std::invalid_argument(at + ": not an object");
      for (const auto& [name, s] : sub.items())
        check_keywords(s, at + "/" + escape_pointer_token(name));
    } else if (key == "dependencies") {
      for (const auto& [name, s] : sub.items())
        if (!s.is_array()) check_keywords(s, at + "/" + escape_pointer_token(name));
    } else if (key == "allOf" || key == "anyOf" || key == "oneOf" ||
               (key == "items" && sub.is_array())) {
      if (!sub.is_array() || sub.empty())
        throw std::invalid_argument(at + ": not a non-empty array");
      for (size_t i = 0; i < sub.size(); ++i) check_keywords(sub[i], fmt::format("{}/{}", at, i));
    } else if (key == "items" || key == "additionalItems" || key == "additionalProperties" ||
               key == "contains" || key == "propertyNames" || key == "if" || key == "then" ||
               key == "else" || key == "not") {
      check_keywords(sub, at);
    } else if (key == "pattern") {
      try {
        std::regex re(sub.get<std::string>());
      } catch (const std::exception& e) {
        throw std::invalid_argument(fmt::format("{}: {}", at, e.what()));
      }
    }
  }
}

// Draft 7 counts 4.0 as an integer; valijson counts only what is stored as one. The same value
// with integral floats stored as integers is what both agree on.
json with_integral_numbers_as_integers(const json& value) {
  if (value.is_number_float()) {
    double d = value.get<double>();
    // [-2^63, 2^63): what an int64_t holds exactly.
    if (std::isfinite(d) && std::trunc(d) == d && d >= -9223372036854775808.0 &&
        d < 9223372036854775808.0)
      return static_cast<int64_t>(d);
    return value;
  }
  if (!value.is_structured()) return value;
  json copy = value;
  for (auto& item : copy) item = with_integral_numbers_as_integers(item);
  return copy;
}

// valijson's context ("<root>", "[backends]", "[0]") as a JSON pointer, "(root)" for the root.
std::string pointer_of(const std::vector<std::string>& context) {
  std::string pointer;
  for (const auto& part : context) {
    if (part == "<root>") continue;
    std::string_view token = part;
    if (token.size() >= 2 && token.front() == '[' && token.back() == ']')
      token = token.substr(1, token.size() - 2);
    pointer += "/" + escape_pointer_token(token);
  }
  return pointer;
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.rfind(prefix, 0) == 0;
}

// One violation as valijson reports it, its context as a JSON pointer.
struct Violation {
  std::string pointer, description;
  int alternative = -1;  // a "failed child schema #N" marker of anyOf / oneOf
};

bool within(const std::string& pointer, const std::string& outer) {
  return pointer == outer || starts_with(pointer, outer + "/");
}

// What a document put in its keys and values, shown on one line (control characters as \xNN) and
// bounded, however long they are.
std::string shown(const std::string& text, size_t limit) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= limit) return out + "...";
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

std::string line_of(const Violation& v) {
  return shown(v.pointer.empty() ? "(root)" : v.pointer, 120) + ": " + shown(v.description, 160);
}

// A failed anyOf at OUTER: valijson has reported each alternative's violations, each closed by a
// marker, just before; they are replaced by one line naming the alternative that came closest
// (one whose type fits, then the one with the fewest violations), as the old validator did.
void collapse_any_of(std::vector<Violation>* found, const std::string& outer) {
  std::vector<std::vector<Violation>> alternatives;
  while (!found->empty() && within(found->back().pointer, outer)) {
    Violation v = std::move(found->back());
    found->pop_back();
    if (v.alternative >= 0 && v.pointer == outer)
      alternatives.insert(alternatives.begin(), std::vector<Violation>{});
    else if (!alternatives.empty())
      alternatives.front().insert(alternatives.front().begin(), std::move(v));
  }
  auto distance = [&](const std::vector<Violation>& e) {
    size_t far = 0;
    for (const auto& v : e)
      far +=
          v.pointer == outer && starts_with(v.description, "Value type not permitted") ? 1000 : 0;
    return far + e.size();
  };
  const std::vector<Violation>* closest = nullptr;
  for (const auto& a : alternatives)
    if (!a.empty() && (!closest || distance(a) < distance(*closest))) closest = &a;
  found->push_back({outer, "matches none of anyOf" +
                               (closest ? "; closest: " + line_of(closest->front()) : "")});
}

// A short rendering of the value at POINTER, for the violations that are about the value itself.
std::string excerpt_at(const json& value, const std::string& pointer) {
  try {
    std::string s = value.at(json::json_pointer(pointer)).dump();
    return s.size() > 60 ? s.substr(0, 57) + "..." : s;
  } catch (const json::exception&) {
    return "";
  }
}

std::string type_at(const json& value, const std::string& pointer) {
  try {
    return value.at(json::json_pointer(pointer)).type_name();
  } catch (const json::exception&) {
    return "";
  }
}

// valijson's line for a failed subschema of a property, an item, additional properties or a
// pattern: the violations within are reported on their own.
bool is_wrapper(const std::string& d) {
  return starts_with(d, "Failed to validate against schema associated with property") ||
         starts_with(d, "Failed to validate item #") ||
         starts_with(d, "Failed to validate against additional properties schema") ||
         starts_with(d, "Failed to validate against schema associated with pattern");
}

// Where the violations a wrapper at POINTER stands for are: the property's or item's pointer
// ("... property name 'foo'." -> POINTER/foo, "item #3 ..." -> POINTER/3), else below POINTER.
std::string wrapped_pointer(const std::string& pointer, const std::string& d) {
  constexpr std::string_view kProperty = "property name '";
  constexpr std::string_view kItem = "item #";
  if (size_t at = d.find(kProperty); at != std::string::npos) {
    size_t begin = at + kProperty.size(), end = d.rfind('\'');
    if (end > begin) return pointer + "/" + escape_pointer_token(d.substr(begin, end - begin));
  }
  if (size_t at = d.find(kItem); at != std::string::npos) {
    size_t begin = at + kItem.size(), end = d.find(' ', begin);
    return pointer + "/" + d.substr(begin, end - begin);
  }
  return pointer;
}

std::vector<std::string> to_lines(valijson::ValidationResults& results, const json& value) {
  std::vector<Violation> found;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    std::string pointer = pointer_of(error.context);
    const std::string& d = error.description;
    if (starts_with(d, "Failed to validate against child schema #")) {
      found.push_back({pointer, d, std::atoi(d.c_str() + 41)});
    } else if (starts_with(d, "Failed to validate against any schemas allowed by anyOf")) {
      collapse_any_of(&found, pointer);
    } else if (is_wrapper(d)) {
      // A violation inside has been reported where it is, unless the schema there was `false`,
      // which says nothing of its own: then this is the only word on it.
      std::string inside = wrapped_pointer(pointer, d);
      bool said = std::any_of(found.begin(), found.end(), [&](const Violation& v) {
        return v.alternative < 0 && within(v.pointer, inside) && v.pointer != pointer;
      });
      if (!said) found.push_back({pointer, d});
    } else if (starts_with(d, "Value type not permitted")) {
      found.push_back({pointer, fmt::format("{} (is {})", d, type_at(value, pointer))});
    } else if (starts_with(d, "Failed to match")) {
      found.push_back({pointer, fmt::format("{} (is {})", d, excerpt_at(value, pointer))});
    } else {
      found.push_back({pointer, d});
    }
  }
  std::vector<std::string> lines;
  for (const auto& v : found)
    if (v.alternative < 0) lines.push_back(line_of(v));
  // A $ref to a `false` schema fails with no word at all.
  if (lines.empty()) lines.push_back("(root): not allowed by the schema");
  return lines;
}

}  // namespace

SchemaSet::SchemaSet() : compiled_(std::make_unique<Compiled>()) {}
SchemaSet::SchemaSet(SchemaSet&&) noexcept = default;
SchemaSet& SchemaSet::operator=(SchemaSet&&) noexcept = default;
SchemaSet::~SchemaSet() = default;

void SchemaSet::add(const json& schema) {
  if (!schema.is_object() || !schema.contains("$id") || !schema["$id"].is_string())
    throw std::invalid_argument("schema without a string $id");
  std::string id = schema["$id"];
  if (schema.contains("$schema") && schema["$schema"] != kDraft7)
    throw std::invalid_argument(
        fmt::format("{}#/$schema: {} is not draft 7 ({})", id, schema["$schema"].dump(), kDraft7));
  check_keywords(schema, id + "#");
  schemas_[id] = schema;
  std::lock_guard lock(compiled_->mutex);
  compiled_->by_id.clear();  // a $ref that did not resolve before may now
}

std::vector<std::string> SchemaSet::validate(const json& value, std::string_view id) const {
  auto it = schemas_.find(id);
  if (it == schemas_.end()) throw std::invalid_argument(fmt::format("no schema {}", id));
  const valijson::Schema* compiled = nullptr;
  {
    std::lock_guard lock(compiled_->mutex);
    auto& slot = compiled_->by_id[it->first];
    if (!slot) {
      auto schema = std::make_unique<valijson::Schema>();
      valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
      // Another schema of the set, by its $id; nothing is fetched from anywhere else.
      auto fetch = [this](const std::string& uri) -> const json* {
        auto other = schemas_.find(uri);
        return other == schemas_.end() ? nullptr : &other->second;
      };
      auto keep = [](const json*) {};  // the set owns its documents
      try {
        parser.populateSchema(valijson::adapters::NlohmannJsonAdapter(it->second), *schema, fetch,
                              keep);
      } catch (const std::exception& e) {
        throw std::invalid_argument(fmt::format("schema {}: {}", id, e.what()));
      }
      slot = std::move(schema);
    }
    compiled = slot.get();
  }
  json checked = with_integral_numbers_as_integers(value);
  // One validator a thread: it keeps every pattern compiled, and compiling dominates validating.
  thread_local valijson::Validator validator(valijson::Validator::kStrongTypes);
  valijson::ValidationResults results;
  if (validator.validate(*compiled, valijson::adapters::NlohmannJsonAdapter(checked), &results))
    return {};
  return to_lines(results, checked);
}

const SchemaSet& builtin_schemas() {
  static const SchemaSet set = [] {
    SchemaSet s;
    for (const auto& text : builtin_schema_texts()) s.add(json::parse(text));
    return s;
  }();
  return set;
}

}  // namespace mmudiff::schema
