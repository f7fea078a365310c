// SPDX-License-Identifier: GPL-2.0-only
#include "oracles/stream_report_wire.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace mmudiff {

using nlohmann::json;

namespace {

// Compact arrays rather than objects: a soak sends one of these per stream.
json side_to_json(const DescriptorSide& s) {
  return {s.backend, s.ipa_start, s.ipa_end, s.level, s.raw, s.kind, s.fields};
}

DescriptorSide side_from_json(const json& j) {
  DescriptorSide s;
  s.backend = j.at(0).get<std::string>();
  s.ipa_start = j.at(1).get<uint64_t>();
  s.ipa_end = j.at(2).get<uint64_t>();
  s.level = j.at(3).get<unsigned>();
  s.raw = j.at(4).get<uint64_t>();
  s.kind = j.at(5).get<std::string>();
  s.fields = j.at(6).get<std::vector<std::pair<std::string, std::string>>>();
  return s;
}

json finding_to_json(const Finding& f) {
  json sides = json::array();
  for (const auto& s : f.divergence) sides.push_back(side_to_json(s));
  return {static_cast<int>(f.severity),
          f.oracle,
          f.op_index,
          f.op_kind,
          f.summary,
          f.evidence,
          sides,
          f.rule,
          f.backend};
}

Finding finding_from_json(const json& j) {
  Finding f;
  f.severity = static_cast<Severity>(j.at(0).get<int>());
  f.oracle = j.at(1).get<std::string>();
  f.op_index = j.at(2).get<size_t>();
  f.op_kind = j.at(3).get<std::string>();
  f.summary = j.at(4).get<std::string>();
  f.evidence = j.at(5).get<std::vector<std::string>>();
  for (const auto& s : j.at(6)) f.divergence.push_back(side_from_json(s));
  f.rule = j.at(7).get<std::string>();
  f.backend = j.at(8).get<std::string>();
  return f;
}

}  // namespace

std::string encode_stream_report(const StreamReport& r) {
  json results = json::array();
  for (const auto& lane : r.results) {
    json ops = json::array();
    for (const auto& o : lane) ops.push_back({o.ret, o.value, o.level});
    results.push_back(std::move(ops));
  }
  json findings = json::array();
  for (const auto& f : r.findings) findings.push_back(finding_to_json(f));
  json j = {
      {"backends", r.backends},
      {"results", results},
      {"skipped", r.skipped},
      {"findings", findings},
      {"notes", r.notes},
      {"root_hashes", r.root_hashes},
      {"table_pages", r.table_pages},
      {"mappings", r.mappings},
      {"bound_reached", r.bound_reached},
      {"bound_op", r.bound_op},
      {"refusal", r.refusal},
      {"threaded",
       {r.threaded.sections, r.threaded.lost_cmpxchgs, r.threaded.eagain, r.threaded.raced_apart}}};
  return j.dump();
}

std::string encode_finding(const Finding& finding) {
  return finding_to_json(finding).dump();
}

Finding decode_finding(const std::string& bytes) {
  try {
    return finding_from_json(json::parse(bytes));
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("a finding that does not decode: ") + e.what());
  }
}

StreamReport decode_stream_report(const std::string& bytes, const Stream& stream) {
  try {
    json j = json::parse(bytes);
    StreamReport r;
    r.stream = stream;
    r.backends = j.at("backends").get<std::vector<std::string>>();
    for (const auto& lane : j.at("results")) {
      std::vector<OpResult> ops;
      for (const auto& o : lane)
        ops.push_back({o.at(0).get<int>(), o.at(1).get<uint64_t>(), o.at(2).get<uint32_t>()});
      r.results.push_back(std::move(ops));
    }
    r.skipped = j.at("skipped").get<std::vector<bool>>();
    for (const auto& f : j.at("findings")) r.findings.push_back(finding_from_json(f));
    r.notes = j.at("notes").get<std::vector<std::string>>();
    r.root_hashes = j.at("root_hashes").get<std::vector<uint64_t>>();
    r.table_pages = j.at("table_pages").get<size_t>();
    r.mappings = j.at("mappings").get<size_t>();
    r.bound_reached = j.at("bound_reached").get<bool>();
    r.bound_op = j.at("bound_op").get<size_t>();
    r.refusal = j.at("refusal").get<std::string>();
    const auto& t = j.at("threaded");
    r.threaded = {t.at(0).get<size_t>(), t.at(1).get<uint64_t>(), t.at(2).get<size_t>(),
                  t.at(3).get<bool>()};
    return r;
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("a stream report that does not decode: ") + e.what());
  }
}

}  // namespace mmudiff
