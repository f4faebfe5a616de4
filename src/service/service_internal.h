// What the export subsystem needs from a running TelemetryService, and nothing more: its store
// (for read scans) and a way to run a task on its writer thread (for restores, which write).
#pragma once

#include <functional>

#include "vibekit/status.h"
#include "vibekit/telemetry_service.h"

#include "store/store.h"

namespace vibekit::internal {
class Privacy;
}

namespace vibekit::service {

struct ServiceInternals {
  // The store of a running service; kFailedPrecondition when it is not running or disabled.
  static Result<store::Store*> StoreOf(TelemetryService& service);
  // The privacy settings every exported row goes through (common/privacy.h).
  static Result<const internal::Privacy*> PrivacyOf(TelemetryService& service);
  // Runs `fn` on the writer thread between batches (after flushing what was accepted before)
  // and returns its Status; kDeadlineExceeded after `timeout_ms`.
  static Status RunOnWriter(TelemetryService& service, std::function<Status()> fn, int timeout_ms);
};

}  // namespace vibekit::service
