// SPDX-License-Identifier: GPL-2.0-only
// encode: .mmu text -> binary; decode: binary -> .mmu text. Lossless both ways.
#include <cstdio>

#include <fmt/format.h>

#include "mmu/ops/binary_format.h"
#include "mmu/ops/text_format.h"
#include "tools/mmudiff/commands.h"
#include "tools/mmudiff/output_path.h"
#include "tools/mmudiff/stream_io.h"

namespace mmudiff::cli {

namespace {

struct ConvertArgs {
  std::string input;
  std::string output;
};

void emit(const std::string& output, const std::string& bytes) {
  if (output.empty() || output == "-") {
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  } else {
    check_output_file(output);
    write_file_atomic(output, bytes);
  }
}

}  // namespace

void add_convert_commands(CLI::App& app, int* exit_code) {
  auto enc_args = std::make_shared<ConvertArgs>();
  auto* enc = app.add_subcommand("encode", "Convert a .mmu text stream to the binary form");
  enc->add_option("FILE", enc_args->input, "the .mmu file")->required();
  enc->add_option("-o,--output", enc_args->output, "where to write (default: standard output)");
  enc->callback([enc_args, exit_code] {
    Stream s = load_stream(enc_args->input, StreamFormat::Text);
    auto bin = encode_binary(s);
    emit(enc_args->output, std::string(bin.begin(), bin.end()));
    *exit_code = kExitAgree;
  });

  auto dec_args = std::make_shared<ConvertArgs>();
  auto* dec = app.add_subcommand("decode", "Convert a binary stream (a fuzzer input) to .mmu text");
  dec->add_option("FILE", dec_args->input, "the binary file")->required();
  dec->add_option("-o,--output", dec_args->output, "where to write (default: standard output)");
  dec->callback([dec_args, exit_code] {
    Stream s = load_stream(dec_args->input, StreamFormat::Binary);
    emit(dec_args->output, fmt::format("# decoded from {}\n{}", dec_args->input, format_stream(s)));
    *exit_code = kExitAgree;
  });
}

}  // namespace mmudiff::cli
