// The toolkit's one exception type: every failure on user input names the file and where in it
// (line, byte offset, entry index) so that a user can find the problem without a debugger.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace ecgbench {

/// Where in an input a problem was found. Empty fields are left out of the message.
struct SourceLocation {
  std::string file;                 ///< path of the file (or a name for in-memory input)
  std::optional<std::size_t> line;  ///< 1-based line number for text formats
  std::optional<std::uint64_t> offset;  ///< byte offset for binary formats
  std::string context;              ///< free text: a field name, a tensor name, an entry index
};

/// Thrown for bad input and failed operations. `what()` reads `file:line: problem (context)`.
class Error : public std::runtime_error {
 public:
  explicit Error(std::string problem) : std::runtime_error(problem), problem_(std::move(problem)) {}
  Error(SourceLocation where, std::string problem)
      : std::runtime_error(format(where, problem)), where_(std::move(where)), problem_(std::move(problem)) {}

  [[nodiscard]] const SourceLocation& where() const noexcept { return where_; }
  [[nodiscard]] const std::string& problem() const noexcept { return problem_; }

  static std::string format(const SourceLocation& w, const std::string& problem) {
    // Appends piece by piece (GCC 12 warns falsely on chains of temporary concatenations here).
    std::string s;
    s.reserve(w.file.size() + problem.size() + w.context.size() + 32);
    s.append(w.file);
    if (w.line) s.append(":").append(std::to_string(*w.line));
    if (w.offset) s.append(s.empty() ? "byte " : ": byte ").append(std::to_string(*w.offset));
    if (!s.empty()) s.append(": ");
    s.append(problem);
    if (!w.context.empty()) s.append(" (").append(w.context).append(")");
    return s;
  }

 private:
  SourceLocation where_;
  std::string problem_;
};

/// Throws `Error` naming `file` when `ok` is false. Keeps validation one line at the call site.
inline void require(bool ok, const std::string& file, const std::string& problem) {
  if (!ok) throw Error(SourceLocation{file, {}, {}, {}}, problem);
}

}  // namespace ecgbench
