#include "store/sqlite/stats_sql.h"

#include <string>

namespace vibekit::store::sqlite {

Status ComputeExpectedStats(Database& db) { return db.Exec(ExpectedStatsSql()); }

Status ReplaceStatsWithExpected(Database& db, std::int64_t now_ms) {
  VK_ASSIGN_OR_RETURN(Statement rebuild, Statement::Prepare(db, InsertExpectedStatsSql("?1")));
  VK_RETURN_IF_ERROR(db.Exec("DELETE FROM telemetry_stats"));
  rebuild.Bind(1, now_ms);
  VK_RETURN_IF_ERROR(rebuild.Run().WithContext("rebuild statistics"));
  VK_ASSIGN_OR_RETURN(Statement breakdowns, Statement::Prepare(db,
      "UPDATE telemetry_stats SET "
      "agent_breakdown = (SELECT json_group_object(stat_key, total_events) FROM "
      "telemetry_stats WHERE stat_type = 'agent'), "
      "mode_breakdown = (SELECT json_group_object(stat_key, total_events) FROM telemetry_stats "
      "WHERE stat_type = 'mode'), computed_at = ?1 "
      "WHERE stat_type = 'global' AND stat_key = 'all'"));
  breakdowns.Bind(1, now_ms);
  return breakdowns.Run();
}

}  // namespace vibekit::store::sqlite
