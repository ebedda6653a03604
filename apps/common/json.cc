#include "apps/common/json.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace synack::app {

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

void JsonWriter::Prefix(std::string_view key) {
  if (levels_.empty()) return;
  Level& l = levels_.back();
  if (!l.empty) out_ += ',';
  l.empty = false;
  if (l.object) absl::StrAppend(&out_, JsonQuote(key), ":");
}

JsonWriter& JsonWriter::Open(std::string_view key, char bracket, bool object) {
  Prefix(key);
  out_ += bracket;
  levels_.push_back({object, true});
  return *this;
}

JsonWriter& JsonWriter::Close(char bracket) {
  if (!levels_.empty()) levels_.pop_back();
  out_ += bracket;
  return *this;
}

JsonWriter& JsonWriter::BeginObject(std::string_view key) { return Open(key, '{', true); }
JsonWriter& JsonWriter::EndObject() { return Close('}'); }
JsonWriter& JsonWriter::BeginArray(std::string_view key) { return Open(key, '[', false); }
JsonWriter& JsonWriter::EndArray() { return Close(']'); }

JsonWriter& JsonWriter::String(std::string_view key, std::string_view value) {
  Prefix(key);
  out_ += JsonQuote(value);
  return *this;
}

JsonWriter& JsonWriter::Uint(std::string_view key, uint64_t value) {
  Prefix(key);
  absl::StrAppend(&out_, value);
  return *this;
}

JsonWriter& JsonWriter::Int(std::string_view key, int64_t value) {
  Prefix(key);
  absl::StrAppend(&out_, value);
  return *this;
}

JsonWriter& JsonWriter::Double(std::string_view key, double value) {
  Prefix(key);
  if (std::isfinite(value)) {
    absl::StrAppendFormat(&out_, "%.17g", value);
  } else {
    out_ += "null";
  }
  return *this;
}

JsonWriter& JsonWriter::Bool(std::string_view key, bool value) {
  Prefix(key);
  out_ += value ? "true" : "false";
  return *this;
}

bool JsonStdout::Begin() {
  std::fflush(stdout);
  saved_ = dup(STDOUT_FILENO);
  if (saved_ < 0) return false;
  if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    close(saved_);
    saved_ = -1;
    return false;
  }
  return true;
}

void JsonStdout::Write(const JsonWriter& doc) {
  std::fflush(stdout);
  const std::string text = doc.str() + "\n";
  const int fd = saved_ >= 0 ? saved_ : STDOUT_FILENO;
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}

JsonStdout::~JsonStdout() {
  if (saved_ < 0) return;
  std::fflush(stdout);
  dup2(saved_, STDOUT_FILENO);
  close(saved_);
}

}  // namespace synack::app
