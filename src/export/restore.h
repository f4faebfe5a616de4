// Reading our own exports back (json, ndjson, csv; compressed or not): detection of what a file
// is, and parsers that hand each session, event and error to a store::RestoreWriter as they are
// read (one record in memory at a time).
#pragma once

#include <string>

#include "vibekit/export.h"
#include "vibekit/status.h"

#include "store/store.h"

namespace vibekit::exporting {

// What `path` holds (see ExportInputKind). For csv, `path` may also be the "<stem>.csv" of a
// per-table set whose files exist. kInvalidArgument when it is none of them.
Result<ExportInputKind> DetectInputKind(const std::string& path);

// Parses `path` (of `kind`, not kEventNdjson) into `writer`, counting into `result`. Does not
// Commit. kInvalidArgument / kCorruption with the line or record that is wrong.
Status RestoreInto(const std::string& path, ExportInputKind kind, store::RestoreWriter& writer,
                   RestoreResult& result);

// The files of a per-table csv export written to `path` (see docs/EXPORT.md):
// "out.csv" -> "out.<table>.csv", "out.csv.gz" -> "out.<table>.csv.gz", "out" -> "out.<table>.csv".
std::string PerTablePath(const std::string& path, std::string_view table,
                         std::string_view compression_extension);

}  // namespace vibekit::exporting
