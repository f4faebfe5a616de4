// Turns an exception escaping a Status/Result-returning body into a Status, for the noexcept
// public methods that call into code which may throw (allocation, Boost.JSON, the standard
// library).
#pragma once

#include <exception>
#include <new>
#include <string>

#include "vibekit/status.h"

namespace vibekit::internal {

template <typename F>
auto Guard(F&& f) noexcept -> decltype(f()) {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("unexpected: ") + e.what());
  }
}

}  // namespace vibekit::internal
