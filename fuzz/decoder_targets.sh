# SPDX-License-Identifier: GPL-2.0-only
# The decoders' fuzz targets, for the scripts that build or run them (fuzz/oss-fuzz/build.sh,
# fuzz/run_decoder_fuzzer.sh): their names, seed directories, dictionaries and input bound.
# Sourced; paths are relative to the source tree.
mmudiff_decoder_targets=(text_parser_fuzzer run_dir_fuzzer)

# Directories whose files seed TARGET.
mmudiff_decoder_seed_dirs() {
  case "$1" in
    text_parser_fuzzer) echo corpus/seeds corpus/regressions fuzz/seeds/text_parser ;;
    run_dir_fuzzer) echo fuzz/seeds/run_dir ;;
    *) return 1 ;;
  esac
}

mmudiff_decoder_dict() {
  case "$1" in
    text_parser_fuzzer) echo fuzz/text_parser.dict ;;
    run_dir_fuzzer) echo fuzz/run_dir.dict ;;
    *) return 1 ;;
  esac
}

# Longest input worth trying: a stream of a few dozen lines; a run directory with a few findings.
mmudiff_decoder_max_len() {
  case "$1" in
    text_parser_fuzzer) echo 4096 ;;
    run_dir_fuzzer) echo 16384 ;;
    *) return 1 ;;
  esac
}
