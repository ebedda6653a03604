// Writes the seed corpus of the fuzz targets: tests/fuzz/corpus/<target>/<name>, from frames built like the
// unit tests build them (tests/frames.h: independent, naive checksums) and engine programs encoded with the
// same field tables the target decodes (tests/fuzz/engine_program.h). Deterministic; rerun after changing
// a format and commit the result.
// Usage: fuzz_make_corpus OUT-DIR   (e.g. build/fuzz/fuzz_make_corpus tests/fuzz/corpus)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/frames.h"
#include "tests/fuzz/engine_program.h"

namespace synack::fuzz {
namespace {

using testing::Bytes;
using testing::Concat;
using testing::Put16;
using testing::Put32;
namespace fs = std::filesystem;
using namespace tcp_option_bytes_helpers;

}  // namespace
}  // namespace synack::fuzz
