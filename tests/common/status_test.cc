#include "vibekit/status.h"

#include <gtest/gtest.h>

namespace vibekit {
namespace {

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(Status, ValidationAndDatabaseErrorsAreDistinguished) {
  EXPECT_TRUE(Status::InvalidArgument("x").IsValidationError());
  EXPECT_FALSE(Status::InvalidArgument("x").IsDatabaseError());
  for (const Status& s : {Status::Busy("b"), Status::Unavailable("u"), Status::IoError("i"),
                          Status::Corruption("c"), Status::DeadlineExceeded("d")}) {
    EXPECT_TRUE(s.IsDatabaseError()) << s.ToString();
    EXPECT_FALSE(s.IsValidationError()) << s.ToString();
  }
  EXPECT_TRUE(Status::Busy("b").IsRetryable());
  EXPECT_FALSE(Status::Corruption("c").IsRetryable());
}

TEST(Status, ToStringNamesCodeAndMessage) {
  EXPECT_EQ(Status::Busy("database is locked").ToString(), "busy: database is locked");
  EXPECT_EQ(Status::NotFound("x").WithContext("load").ToString(), "not_found: load: x");
}

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::InvalidArgument("odd");
  return v / 2;
}

Status UseMacros(int v, int* out) {
  VK_ASSIGN_OR_RETURN(int h, Half(v));
  VK_RETURN_IF_ERROR(h > 100 ? Status::InvalidArgument("big") : Status::Ok());
  *out = h;
  return Status::Ok();
}

TEST(Result, HoldsValueOrStatusAndMacrosPropagate) {
  int out = 0;
  EXPECT_TRUE(UseMacros(8, &out).ok());
  EXPECT_EQ(out, 4);
  EXPECT_EQ(UseMacros(7, &out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(UseMacros(400, &out).message(), "big");
  Result<int> r = Half(3);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd");
}

}  // namespace
}  // namespace vibekit
