// The rows of store::kValidationRulesQuery (store/validation_rules_sql.h) read from a
// PostgreSQL result, for PgStore and the integrity backend alike.
#pragma once

#include <vector>

#include "store/postgres/pg_conn.h"
#include "vibekit/validation_rule.h"

namespace vibekit::store::postgres {

std::vector<ValidationRule> ValidationRulesFromResult(const PgResult& r);

}  // namespace vibekit::store::postgres
