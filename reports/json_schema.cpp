// SPDX-License-Identifier: GPL-2.0-only
#include "reports/json_schema.h"

#include <cmath>
#include <map>
#include <regex>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "reports/builtin_schemas.h"

namespace mmudiff::schema {

namespace {

using nlohmann::json;

const std::set<std::string>& known_keywords() {
  static const std::set<std::string> keywords = {
      "type",    "enum",     "const",   "required", "properties", "additionalProperties",
      "items",   "minItems", "minimum", "pattern",  "anyOf",      "$ref",
      "$schema", "$id",      "$defs",   "$comment", "title",      "description",
  };
  return keywords;
}

bool has_type(const json& value, const std::string& type) {
  if (type == "null") return value.is_null();
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "number") return value.is_number();
  if (type == "integer") {
    if (value.is_number_integer()) return true;
    if (!value.is_number_float()) return false;
    // A whole number a reader can convert to a 64-bit integer (1e300 is not: converting it would
    // be undefined), checked without converting it.
    double d = value.get<double>();
    return std::trunc(d) == d && d >= -0x1p63 && d < 0x1p63;
  }
  return false;
}

std::string escape_pointer_token(const std::string& token) {
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

// A pointer as an error message shows it: on one line (control characters in the document's keys
// as \xNN) and bounded, however long the keys are.
std::string shown(const std::string& pointer) {
  if (pointer.empty()) return "(root)";
  std::string out;
  for (unsigned char c : pointer) {
    if (out.size() >= 120) return out + "...";
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", c);
    else
      out += static_cast<char>(c);
  }
  return out;
}

std::string short_dump(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

}  // namespace

void SchemaSet::check_keywords(const json& schema, const std::string& where) const {
  if (schema.is_boolean()) return;
  if (!schema.is_object()) throw std::invalid_argument(where + ": a schema must be an object");
  for (const auto& [key, sub] : schema.items()) {
    if (!known_keywords().count(key))
      throw std::invalid_argument(
          fmt::format("{}/{}: keyword outside the supported subset", where, key));
    if (key == "properties" || key == "$defs") {
      if (!sub.is_object()) throw std::invalid_argument(where + "/" + key + ": not an object");
      for (const auto& [name, s] : sub.items())
        check_keywords(s, where + "/" + key + "/" + escape_pointer_token(name));
    } else if (key == "additionalProperties" || key == "items") {
      check_keywords(sub, where + "/" + key);
    } else if (key == "anyOf") {
      if (!sub.is_array() || sub.empty())
        throw std::invalid_argument(where + "/anyOf: not a non-empty array");
      for (size_t i = 0; i < sub.size(); ++i)
        check_keywords(sub[i], fmt::format("{}/anyOf/{}", where, i));
    } else if (key == "pattern") {
      try {
        std::regex re(sub.get<std::string>());
      } catch (const std::exception& e) {
        throw std::invalid_argument(fmt::format("{}/pattern: {}", where, e.what()));
      }
    }
  }
}

void SchemaSet::add(const json& schema) {
  if (!schema.is_object() || !schema.contains("$id") || !schema["$id"].is_string())
    throw std::invalid_argument("schema without a string $id");
  std::string id = schema["$id"];
  check_keywords(schema, id + "#");
  schemas_[id] = schema;
}

const json& SchemaSet::resolve(const std::string& ref, const std::string& base) const {
  size_t hash = ref.find('#');
  std::string id = hash == std::string::npos ? ref : ref.substr(0, hash);
  std::string fragment = hash == std::string::npos ? "" : ref.substr(hash + 1);
  if (id.empty()) id = base;
  auto it = schemas_.find(id);
  if (it == schemas_.end())
    throw std::invalid_argument(fmt::format("$ref {}: no schema {} in the set", ref, id));
  if (fragment.empty()) return it->second;
  try {
    return it->second.at(json::json_pointer(fragment));
  } catch (const json::exception&) {
    throw std::invalid_argument(fmt::format("$ref {}: no {} in {}", ref, fragment, id));
  }
}

void SchemaSet::check(const json& value, const json& schema, const std::string& base,
                      const std::string& pointer, std::vector<std::string>* errors) const {
  if (schema.is_boolean()) {
    if (!schema.get<bool>()) errors->push_back(shown(pointer) + ": not allowed here");
    return;
  }
  auto error = [&](const std::string& what) { errors->push_back(shown(pointer) + ": " + what); };

  if (auto it = schema.find("$ref"); it != schema.end()) {
    std::string ref = *it;
    size_t hash = ref.find('#');
    std::string next_base = hash == 0 ? base : ref.substr(0, hash);
    check(value, resolve(ref, base), next_base, pointer, errors);
  }
  if (auto it = schema.find("type"); it != schema.end()) {
    bool ok = false;
    if (it->is_string()) {
      ok = has_type(value, *it);
    } else {
      for (const auto& t : *it) ok = ok || has_type(value, t);
    }
    if (!ok) {
      error(fmt::format("is {}, expected {}", value.type_name(),
                        it->is_string() ? it->get<std::string>() : it->dump()));
      return;  // the other keywords assume the right type
    }
  }
  if (auto it = schema.find("const"); it != schema.end() && value != *it)
    error(fmt::format("is {}, expected {}", short_dump(value), it->dump()));
  if (auto it = schema.find("enum"); it != schema.end()) {
    bool found = false;
    for (const auto& v : *it) found = found || v == value;
    if (!found) error(fmt::format("{} is not one of {}", short_dump(value), it->dump()));
  }
  if (auto it = schema.find("minimum");
      it != schema.end() && value.is_number() && value.get<double>() < it->get<double>())
    error(fmt::format("{} is below the minimum {}", value.dump(), it->dump()));
  if (auto it = schema.find("pattern"); it != schema.end() && value.is_string()) {
    // Each pattern compiled once per thread: compiling dominated validating a file.
    thread_local std::map<std::string, std::regex> compiled;
    const std::string& pattern = it->get_ref<const std::string&>();
    auto re = compiled.find(pattern);
    if (re == compiled.end()) re = compiled.emplace(pattern, std::regex(pattern)).first;
    if (!std::regex_search(value.get<std::string>(), re->second))
      error(fmt::format("{} does not match {}", short_dump(value), it->get<std::string>()));
  }
  if (auto it = schema.find("anyOf"); it != schema.end()) {
    // The alternative that came closest says most about what is wrong: one whose type fits
    // (its errors are deeper than a type mismatch here), then the one with fewest errors.
    auto distance = [&](const std::vector<std::string>& e) {
      std::string type_mismatch = shown(pointer) + ": is ";
      size_t far = 0;
      for (const auto& m : e) far += m.rfind(type_mismatch, 0) == 0 ? 1000 : 0;
      return far + e.size();
    };
    bool any = false;
    std::vector<std::string> closest;
    for (const auto& alternative : *it) {
      std::vector<std::string> e;
      check(value, alternative, base, pointer, &e);
      if (e.empty()) {
        any = true;
        break;
      }
      if (closest.empty() || distance(e) < distance(closest)) closest = e;
    }
    if (!any) error("matches none of anyOf; closest: " + closest.front());
  }
  if (value.is_object()) {
    if (auto it = schema.find("required"); it != schema.end())
      for (const auto& name : *it)
        if (!value.contains(name.get<std::string>()))
          error(fmt::format("missing required property '{}'", name.get<std::string>()));
    const json* properties = schema.contains("properties") ? &schema["properties"] : nullptr;
    const json* additional =
        schema.contains("additionalProperties") ? &schema["additionalProperties"] : nullptr;
    for (const auto& [name, v] : value.items()) {
      std::string child = pointer + "/" + escape_pointer_token(name);
      if (properties && properties->contains(name)) {
        check(v, (*properties)[name], base, child, errors);
      } else if (additional) {
        if (additional->is_boolean() && !additional->get<bool>())
          errors->push_back(shown(child) + ": property not in the schema");
        else
          check(v, *additional, base, child, errors);
      }
    }
  }
  if (value.is_array()) {
    if (auto it = schema.find("minItems"); it != schema.end() && value.size() < it->get<size_t>())
      error(fmt::format("has {} items, at least {} required", value.size(), it->dump()));
    if (auto it = schema.find("items"); it != schema.end())
      for (size_t i = 0; i < value.size(); ++i)
        check(value[i], *it, base, fmt::format("{}/{}", pointer, i), errors);
  }
}

std::vector<std::string> SchemaSet::validate(const json& value, std::string_view id) const {
  auto it = schemas_.find(std::string(id));
  if (it == schemas_.end()) throw std::invalid_argument(fmt::format("no schema {}", id));
  std::vector<std::string> errors;
  check(value, it->second, it->first, "", &errors);
  return errors;
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
