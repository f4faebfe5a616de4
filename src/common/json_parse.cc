#include "common/json_parse.h"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <charconv>
#include <cstdint>
#include <string>
#include <utility>

namespace vibekit::internal {
namespace json = boost::json;

namespace {

using boost::system::error_code;

// basic_parser's handler: builds the value with a value_stack, as json::parser does, but takes
// doubles from their text.
class ExactHandler {
 public:
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();

  explicit ExactHandler(json::storage_ptr sp) : sp_(std::move(sp)) {}

  json::value Release() { return stack_.release(); }

  bool on_document_begin(error_code&) {
    stack_.reset(sp_);
    return true;
  }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) {
    stack_.push_array(n);
    return true;
  }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(std::size_t n, error_code&) {
    stack_.push_object(n);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, error_code&) {
    stack_.push_string(s);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, error_code&) {
    stack_.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, error_code&) {
    stack_.push_key(s);
    return true;
  }
  bool on_number_part(json::string_view s, error_code&) {
    number_.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, error_code&) {
    number_.clear();
    stack_.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, error_code&) {
    number_.clear();
    stack_.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view s, error_code&) {
    number_.append(s.data(), s.size());
    double exact = 0;
    const auto [end, err] =
        std::from_chars(number_.data(), number_.data() + number_.size(), exact);
    // The grammar was checked by the parser; from_chars only refuses what overflows to
    // infinity, where Boost's value (also infinite) is kept.
    if (err == std::errc() && end == number_.data() + number_.size()) d = exact;
    number_.clear();
    stack_.push_double(d);
    return true;
  }
  bool on_bool(bool b, error_code&) {
    stack_.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    stack_.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }

 private:
  json::storage_ptr sp_;
  json::value_stack stack_;
  std::string number_;
};

}  // namespace

json::value ParseJsonPrefix(std::string_view text, std::size_t& used, error_code& ec,
                            json::storage_ptr sp, int max_depth) {
  json::parse_options options;
  options.max_depth = static_cast<std::size_t>(max_depth);
  json::basic_parser<ExactHandler> parser(options, std::move(sp));
  used = parser.write_some(true, text.data(), text.size(), ec);
  // A top-level number at the very end is complete only once the parser knows nothing follows.
  if (!ec && !parser.done()) parser.write_some(false, nullptr, 0, ec);
  if (ec) return nullptr;
  return parser.handler().Release();
}

json::value ParseJson(std::string_view text, error_code& ec, json::storage_ptr sp, int max_depth) {
  std::size_t used = 0;
  json::value v = ParseJsonPrefix(text, used, ec, std::move(sp), max_depth);
  if (ec) return nullptr;
  if (text.find_first_not_of(" \t\r\n", used) != std::string_view::npos) {
    ec = json::error::extra_data;
    return nullptr;
  }
  return v;
}

}  // namespace vibekit::internal
