// One schema migration, as both backends list them (store/sqlite/schema.h,
// store/postgres/pg_schema.h): the same versions and descriptions, each in its own SQL.
#pragma once

#include <string_view>

namespace vibekit::store {

struct Migration {
  std::string_view version;
  std::string_view description;
  std::string_view script;
  std::string_view rollback_script;
  // Run after `script` when the table `stash_table` exists: puts back what the rollback script
  // kept aside in vk_stash_* tables (so rollback then migrate loses nothing). Empty when the
  // rollback drops only derived data.
  std::string_view restore_script = {};
  std::string_view stash_table = {};
};

}  // namespace vibekit::store
