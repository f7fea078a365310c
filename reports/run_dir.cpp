// SPDX-License-Identifier: GPL-2.0-only
#include "reports/run_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include <fmt/format.h>

#include "mmu/backend.h"
#include "mmu/ops/binary_format.h"
#include "mmu/ops/text_format.h"
#ifdef MMUDIFF_HAVE_LINUX61
#include "mmu/linux61/linux61_backend.h"
#endif
#ifdef MMUDIFF_HAVE_LINUX612_TDP
#include "mmu/linux612_tdp/linux612_source_info.h"
#endif
#ifdef MMUDIFF_HAVE_LINUX612
#include "mmu/linux612/linux612_backend.h"
#endif

namespace mmudiff::rundir {

namespace {

[[noreturn]] void fail(const std::filesystem::path& path, std::string_view what) {
  throw std::runtime_error(fmt::format("{}: {}: {}", path.string(), what, std::strerror(errno)));
}

void write_all(int fd, std::string_view bytes, const std::filesystem::path& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      fail(path, "write failed");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void sync_directory_of(const std::filesystem::path& path) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // the data itself is synced; a directory we cannot open cannot be synced
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(tmp, "cannot write");
  try {
    write_all(fd, bytes, tmp);
    if (::fsync(fd) != 0) {
      ::close(fd);
      fail(tmp, "cannot sync");
    }
    ::close(fd);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) fail(path, "cannot rename into place");
  } catch (...) {
    // A write that fails (a full disk, a PATH that is a directory) leaves no temporary file.
    ::unlink(tmp.c_str());
    throw;
  }
  sync_directory_of(path);
}

void write_json_atomic(const std::filesystem::path& path, const nlohmann::json& value) {
  write_file_atomic(path, value.dump(2) + "\n");
}

void append_json_line(const std::filesystem::path& path, const nlohmann::json& value) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, "cannot append");
  write_all(fd, value.dump() + "\n", path);
  ::fsync(fd);
  ::close(fd);
}

namespace {

// 64-bit addresses and descriptors as hex strings: JSON readers that hold numbers as doubles
// (JavaScript among them) would round them.
std::string hex(uint64_t v) {
  return fmt::format("{:#x}", v);
}

nlohmann::json divergence_json(const std::vector<DescriptorSide>& sides) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& side : sides) {
    nlohmann::json fields = nlohmann::json::array();
    for (const auto& [name, value] : side.fields)
      fields.push_back({{"name", name}, {"value", value}});
    list.push_back({{"backend", side.backend},
                    {"ipa_start", hex(side.ipa_start)},
                    {"ipa_end", hex(side.ipa_end)},
                    {"level", side.level},
                    {"raw", fmt::format("{:#018x}", side.raw)},
                    {"kind", side.kind},
                    {"fields", fields}});
  }
  return list;
}

}  // namespace

nlohmann::json finding_json(const Finding& finding) {
  return {
      {"signature", finding.signature()},
      {"class", severity_name(finding.severity)},
      {"oracle", finding.oracle},
      {"op_index", finding.op_index},
      {"op_kind", finding.op_kind},
      {"summary", finding.summary},
      {"evidence", finding.evidence},
      {"divergence", divergence_json(finding.divergence)},
      {"rule", finding.rule},
      {"backend", finding.backend},
  };
}

std::string finding_dir_name(const Finding& finding) {
  // Readable: the signature with '/' as '-', which keeps "class-oracle-operation" names as they
  // always were. Rules and sanitizer kinds may carry capitals, '.' or '+' ("SIGSEGV"), which a
  // name cannot keep apart from their lowercase or '-' forms, and a long rule could outgrow a
  // file name: such names end in a hash of the whole signature, so two signatures never share a
  // directory (the second would overwrite the first's reproducer).
  constexpr size_t kMaxReadable = 120;
  std::string signature = finding.signature();
  std::string name;
  bool lossy = false;
  for (char c : signature) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (c >= 'A' && c <= 'Z')
      name += static_cast<char>(c - 'A' + 'a');
    else
      name += keep ? c : '-';
    lossy = lossy || !(keep || c == '/');
  }
  if (!lossy && name.size() <= kMaxReadable) return name;
  uint32_t h = 2166136261u;  // FNV-1a: a name, not a security property
  for (unsigned char c : signature) h = (h ^ c) * 16777619u;
  if (name.size() > kMaxReadable) name.resize(kMaxReadable);
  return fmt::format("{}-{:08x}", name, h);
}

std::filesystem::path write_finding(const std::filesystem::path& run_dir, const Finding& finding,
                                    const Stream& stream, const nlohmann::json& extra) {
  std::filesystem::path dir = run_dir / kFindingsDir / finding_dir_name(finding);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error(fmt::format("{}: cannot create: {}", dir.string(), ec.message()));
  std::vector<uint8_t> bytes = encode_binary(stream);
  write_file_atomic(dir / kFindingInput,
                    std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  write_file_atomic(
      dir / kFindingReproducer,
      fmt::format("# {}\n# expect: {}/{}\n{}", finding.summary, severity_name(finding.severity),
                  finding.oracle, format_stream(stream)));
  nlohmann::json record = finding_json(finding);
  for (const auto& [key, value] : extra.items()) record[key] = value;
  write_json_atomic(dir / kFindingFile, record);
  return dir;
}

nlohmann::json tool_json() {
#if defined(__clang__)
  const char* compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  const char* compiler = "g++ " __VERSION__;
#else
  const char* compiler = "unknown";
#endif
  return {{"version", MMUDIFF_VERSION}, {"compiler", compiler}, {"build_type", MMUDIFF_BUILD_TYPE}};
}

nlohmann::json backends_json(const std::vector<std::string>& names) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& name : names) {
    // A name may be an arm64 and an x86 backend's ("walker"): the first registered describes it.
    const BackendInfo* info = nullptr;
    for (const auto& b : registered_backends())
      if (!info && b.name == name) info = &b;
    if (!info) throw std::invalid_argument(fmt::format("no backend '{}' in this build", name));
    std::string identity = fmt::format("mmudiff {} (built from this tree)", MMUDIFF_VERSION);
#ifdef MMUDIFF_HAVE_LINUX61
    if (name == "linux61") identity = linux61_source_info().summary();
#endif
#ifdef MMUDIFF_HAVE_LINUX612_TDP
    if (name == "linux612-tdp") identity = linux612_source_info().summary();
#endif
#ifdef MMUDIFF_HAVE_LINUX612
    if (name == "linux612") identity = linux612_arm64_source_info().summary();
#endif
    list.push_back(
        {{"name", info->name}, {"description", info->description}, {"identity", identity}});
  }
  return list;
}

std::string utc_timestamp(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace mmudiff::rundir
