// JSON output for the tools' --json mode (synack-cps, synack-perf): a small writer that builds one
// document as text — objects, arrays, strings escaped per RFC 8259, numbers as numbers (a non-finite
// double becomes null) — and the stdout hand-over that keeps the document the only thing on stdout.
// No dependency beyond the standard library. Ownership and threading: plain values; the writer is used on
// one thread (the main thread, after the run).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace synack::app {

// `s` as a JSON string literal, quotes included: ", \ and control characters escaped.
std::string JsonQuote(std::string_view s);

// Builds a document: every value inside an object takes a key, inside an array the key is ignored.
// Example: w.BeginObject().String("mode", "loopback").BeginArray("intervals").EndArray().EndObject().
class JsonWriter {
 public:
  JsonWriter& BeginObject(std::string_view key = {});
  JsonWriter& EndObject();
  JsonWriter& BeginArray(std::string_view key = {});
  JsonWriter& EndArray();
  JsonWriter& String(std::string_view key, std::string_view value);
  JsonWriter& Uint(std::string_view key, uint64_t value);
  JsonWriter& Int(std::string_view key, int64_t value);
  JsonWriter& Double(std::string_view key, double value);
  JsonWriter& Bool(std::string_view key, bool value);
  // The document so far (complete once every Begin has its End).
  const std::string& str() const { return out_; }

 private:
  // The comma before a value (not before the first of its container) and its key inside an object.
  void Prefix(std::string_view key);
  JsonWriter& Open(std::string_view key, char bracket, bool object);
  JsonWriter& Close(char bracket);

  std::string out_;
  struct Level {
    bool object = false;
    bool empty = true;
  };
  std::vector<Level> levels_;
};

// --json: stdout is for the document only. Begin() points fd 1 at stderr (every human line, the EAL's
// included, goes there) and keeps the real stdout; Write() puts the document on it. Main thread.
class JsonStdout {
 public:
  // Returns false (errno set) if the descriptors cannot be duplicated.
  bool Begin();
  // The document and a newline on the real stdout; restores fd 1.
  void Write(const JsonWriter& doc);
  ~JsonStdout();

 private:
  int saved_ = -1;
};

}  // namespace synack::app
