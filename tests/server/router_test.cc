// Routing and the plain HTTP helpers, without sockets.
#include "server/router.h"

#include <gtest/gtest.h>

#include "server/http_types.h"

namespace vibekit::server {
namespace {

TEST(Router, MatchesLiteralAndParameterSegments) {
  Router router;
  router.Add("GET", "/api/sessions", [](Request&) { return ErrorResponse(418, "list"); });
  router.Add("GET", "/api/sessions/{id}", [](Request& r) {
    Response res;
    res.body = std::string(r.PathParam("id"));
    return res;
  });
  Request req;
  req.method = "GET";
  req.path = "/api/sessions/abc-1";
  Router::Match m = router.Find(req);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(m.route, "/api/sessions/{id}");
  EXPECT_EQ((*m.handler)(req).body, "abc-1");
  req.path = "/api/sessions";
  m = router.Find(req);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ((*m.handler)(req).status, 418);
}

TEST(Router, UnknownPathIs404KnownPathOtherMethod405) {
  Router router;
  router.Add("POST", "/api/events", [](Request&) { return Response(); });
  router.Add("GET", "/api/events", [](Request&) { return Response(); });
  Request req;
  req.method = "PUT";
  req.path = "/api/events";
  Router::Match m = router.Find(req);
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "POST, GET");
  req.path = "/api/other";
  EXPECT_EQ(router.Find(req).status, 404);
}

TEST(Router, FallbackTakesUnmatchedPathsAsPublic) {
  Router router;
  router.SetFallback([](Request&) { return ErrorResponse(404, "static"); });
  Request req;
  req.method = "GET";
  req.path = "/index.html";
  Router::Match m = router.Find(req);
  ASSERT_NE(m.handler, nullptr);
  EXPECT_TRUE(m.public_access);
}

TEST(HttpTypes, QueryParametersArePercentDecoded) {
  Request req;
  req.query = "a=1&q=hello+world%21&empty=&flag";
  EXPECT_EQ(req.Param("a"), "1");
  EXPECT_EQ(req.Param("q"), "hello world!");
  EXPECT_EQ(req.Param("empty"), "");
  EXPECT_EQ(req.Param("flag"), "");
  EXPECT_EQ(req.Param("missing"), std::nullopt);
  EXPECT_EQ(PercentDecode("%2e%2E/x", false), "../x");
  EXPECT_EQ(PercentDecode("%zz", false), std::nullopt);
  EXPECT_EQ(PercentDecode("%4", false), std::nullopt);
}

TEST(HttpTypes, LoopbackHosts) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("192.168.1.4"));
  EXPECT_FALSE(IsLoopbackHost("::"));
}

TEST(HttpTypes, StatusMapsToHttpCodes) {
  EXPECT_EQ(StatusResponse(Status::InvalidArgument("x")).status, 400);
  EXPECT_EQ(StatusResponse(Status::NotFound("x")).status, 404);
  Response busy = StatusResponse(Status::Busy("x"));
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.Header("retry-after"), "1");
  EXPECT_EQ(StatusResponse(Status::Internal("x")).status, 500);
}

TEST(HttpTypes, GzipRoundTripAndLimit) {
  const std::string text(100000, 'a');
  auto packed = GzipCompress(text);
  ASSERT_TRUE(packed.ok());
  EXPECT_LT(packed->size(), 1000u);
  auto back = GzipDecompress(*packed, 200000);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, text);
  auto bomb = GzipDecompress(*packed, 50000);
  EXPECT_FALSE(bomb.ok());
}

}  // namespace
}  // namespace vibekit::server
