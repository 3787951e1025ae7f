// RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines; CRLF or LF line ends;
// a UTF-8 BOM is skipped. Every row remembers its starting line for error messages.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ecgbench/core/atomic_file.hpp"
#include "ecgbench/core/error.hpp"

namespace ecgbench::io {

class CsvTable {
 public:
  CsvTable() = default;

  /// Parses `text`; the first record is the header. Rows with a different field count than the
  /// header are an error naming the line.
  static CsvTable parse(std::string_view text, const std::string& name) {
    CsvTable t;
    t.name_ = name;
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
    std::vector<std::string> row;
    std::string field;
    std::size_t line = 1, row_line = 1, i = 0;
    bool in_quotes = false, field_quoted = false, any = false;
    auto end_field = [&] {
      row.push_back(std::move(field));
      field.clear();
      field_quoted = false;
    };
    auto end_row = [&] {
      end_field();
      if (!(row.size() == 1 && row[0].empty() && !any)) {
        if (t.header_.empty()) {
          t.header_ = std::move(row);
          for (std::size_t c = 0; c < t.header_.size(); ++c) t.index_.emplace(t.header_[c], c);
        } else {
          if (row.size() != t.header_.size())
            throw Error({name, row_line, {}, {}}, "row has " + std::to_string(row.size()) + " fields, header has " +
                                                     std::to_string(t.header_.size()));
          t.rows_.push_back(std::move(row));
          t.lines_.push_back(row_line);
        }
      }
      row.clear();
      any = false;
      row_line = line;
    };
    while (i < text.size()) {
      const char c = text[i];
      if (in_quotes) {
        if (c == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            ++i;
          } else {
            in_quotes = false;
          }
        } else {
          if (c == '\n') ++line;
          field += c;
        }
        ++i;
        continue;
      }
      if (c == '"' && field.empty() && !field_quoted) {
        in_quotes = field_quoted = any = true;
      } else if (c == ',') {
        end_field();
        any = true;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
        ++line;
        end_row();
      } else {
        if (field_quoted) throw Error({name, line, {}, {}}, "text after a closing quote");
        field += c;
        any = true;
      }
      ++i;
    }
    if (in_quotes) throw Error({name, row_line, {}, {}}, "unterminated quoted field");
    if (any || !row.empty()) end_row();
    if (t.header_.empty()) throw Error({name, 1, {}, {}}, "empty CSV file: no header row");
    return t;
  }

  static CsvTable read(const std::filesystem::path& p) { return parse(read_file(p), p.string()); }

  [[nodiscard]] const std::vector<std::string>& header() const { return header_; }
  [[nodiscard]] std::size_t size() const { return rows_.size(); }
  [[nodiscard]] const std::vector<std::string>& row(std::size_t r) const { return rows_[r]; }
  [[nodiscard]] std::size_t line_of(std::size_t r) const { return lines_[r]; }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] bool has_column(const std::string& c) const { return index_.count(c) > 0; }

  /// Column index by name; missing column -> Error naming the file and the column.
  [[nodiscard]] std::size_t column(const std::string& c) const {
    auto it = index_.find(c);
    if (it == index_.end()) throw Error({name_, 1, {}, {}}, "missing column '" + c + "'");
    return it->second;
  }
  [[nodiscard]] const std::string& at(std::size_t r, const std::string& c) const { return rows_[r][column(c)]; }

 private:
  std::string name_;
  std::vector<std::string> header_;
  std::unordered_map<std::string, std::size_t> index_;
  std::vector<std::vector<std::string>> rows_;
  std::vector<std::size_t> lines_;
};

}  // namespace ecgbench::io
