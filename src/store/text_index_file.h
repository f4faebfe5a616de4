// Schema 1.9.0 (both backends, one version history): SQLite's text index moves to a file of its
// own written by a thread of its own (store/sqlite/text_index.h). PostgreSQL's GIN index over
// tsvector stays where it is (its upkeep is spread over PostgreSQL's own processes), so there
// the migration only records the version.
#pragma once

#include <string_view>

namespace vibekit::store {

inline constexpr std::string_view kTextIndexFileDescription =
    "Text index in a file of its own, filled by its own thread (SQLite); generation and change "
    "log that keep it exact";
inline constexpr std::string_view kTextIndexFilePgScript =
    "-- SQLite only: the PostgreSQL text index is unchanged.\nSELECT 1;";

}  // namespace vibekit::store
