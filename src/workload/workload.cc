#include "workload/workload.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vibekit::workload {
namespace {

using Pool = std::span<const std::string_view>;

// ---------------------------------------------------------------------------------------------
// Randomness. xoshiro256** seeded by splitmix64: tiny, fast, and bit-identical everywhere, which
// std::uniform_*_distribution is not.
// ---------------------------------------------------------------------------------------------

std::uint64_t SplitMix64(std::uint64_t* state) {
  std::uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    std::uint64_t x = seed;
    for (std::uint64_t& word : s_) {
      word = SplitMix64(&x);
    }
  }

  std::uint64_t Next() {
    const std::uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n). Lemire's multiply-shift without the rejection step: the bias is below
  // n / 2^32, irrelevant for pools of a few hundred entries.
  std::uint32_t Below(std::uint32_t n) {
    return static_cast<std::uint32_t>(((Next() >> 32) * static_cast<std::uint64_t>(n)) >> 32);
  }
  // Uniform in [lo, hi].
  std::int64_t Between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(Next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  bool Chance(double p) { return Unit() < p; }

  // Standard normal by inverting the CDF (Acklam's rational approximation, relative error
  // < 1.2e-9). Unlike Box-Muller it needs no log/cos except in the outer 5% tails, which matters
  // because several draws are made per event.
  double Normal() {
    constexpr std::array kA = {-3.969683028665376e+01, 2.209460984245205e+02,
                               -2.759285104469687e+02, 1.383577518672690e+02,
                               -3.066479806614716e+01, 2.506628277459239e+00};
    constexpr std::array kB = {-5.447609879822406e+01, 1.615858368580409e+02,
                               -1.556989798598866e+02, 6.680131188771972e+01,
                               -1.328068155288572e+01};
    constexpr std::array kC = {-7.784894002430293e-03, -3.223964580411365e-01,
                               -2.400758277161838e+00, -2.549732539343734e+00,
                               4.374664141464968e+00,  2.938163982698783e+00};
    constexpr std::array kD = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    constexpr double kLow = 0.02425;
    const double p = (static_cast<double>(Next() >> 11) + 0.5) * 0x1.0p-53;  // (0, 1)
    if (p < kLow || p > 1.0 - kLow) {
      const double q = std::sqrt(-2.0 * std::log(p < kLow ? p : 1.0 - p));
      const double x = (((((kC[0] * q + kC[1]) * q + kC[2]) * q + kC[3]) * q + kC[4]) * q + kC[5]) /
                       ((((kD[0] * q + kD[1]) * q + kD[2]) * q + kD[3]) * q + 1.0);
      return p < kLow ? x : -x;
    }
    const double q = p - 0.5;
    const double r = q * q;
    return (((((kA[0] * r + kA[1]) * r + kA[2]) * r + kA[3]) * r + kA[4]) * r + kA[5]) * q /
           (((((kB[0] * r + kB[1]) * r + kB[2]) * r + kB[3]) * r + kB[4]) * r + 1.0);
  }
  // Heavy-tailed positive value with the given median; sigma is the log-space spread.
  double LogNormal(double median, double sigma) { return median * std::exp(sigma * Normal()); }
  std::int64_t LogNormalClamped(double median, double sigma, std::int64_t lo, std::int64_t hi) {
    const double v = LogNormal(median, sigma);
    if (v <= static_cast<double>(lo)) {
      return lo;
    }
    if (v >= static_cast<double>(hi)) {
      return hi;
    }
    return static_cast<std::int64_t>(v);
  }

  // 1..max, skewed towards small values (mean ~max/4): line numbers, counts, durations. Much
  // cheaper than a lognormal draw, and these numbers are everywhere in tool output.
  std::int64_t SmallSkewed(std::uint32_t max) { return 1 + Below(1 + Below(max)); }

  std::string_view Pick(Pool pool) { return pool[Below(static_cast<std::uint32_t>(pool.size()))]; }

  // Index drawn with the given integer weights.
  int Weighted(std::span<const int> weights) {
    int total = 0;
    for (int w : weights) {
      total += w;
    }
    int r = static_cast<int>(Below(static_cast<std::uint32_t>(total)));
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (r < weights[i]) {
        return static_cast<int>(i);
      }
      r -= weights[i];
    }
    return static_cast<int>(weights.size()) - 1;
  }

 private:
  static std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
};

// ---------------------------------------------------------------------------------------------
// Vocabulary. Templates use "§X" slots (a character that never occurs in code or logs, so no
// escaping is needed), filled by Impl::FillSlot:
//   §F file of the session's repo   §N function name   §C type name     §T test name
//   §E error line                   §K test command    §B build command  §L library
//   §D small number (line, count)   §M milliseconds    §P port           §H short git sha
//   §U product area                 §R branch          §S seconds
// ---------------------------------------------------------------------------------------------

enum class Lang : std::uint8_t { kTypeScript, kPython, kCpp, kRust };

struct LangPack {
  std::string_view fence;  // markdown code fence tag
  Pool files;
  Pool funcs;
  Pool types;
  Pool tests;
  Pool errors;
  Pool test_cmds;
  Pool build_cmds;
  Pool libs;
  Pool code_blocks;  // multi-line snippets for code chunks and written files
  Pool lines;        // single source lines for file reads, grep hits, diffs and edits
  Pool test_header;  // first lines of a test run
  Pool test_pass;    // one passing test / file
  Pool test_fail;    // one failure report
  Pool test_ok_summary;
  Pool test_failed_summary;
  Pool build_diag;  // compiler / bundler progress lines and diagnostics, repeated
  Pool build_tail;  // the last lines of a build
};

// --- TypeScript ---
constexpr auto kTsFiles = std::to_array<std::string_view>(
    {"src/auth/session.ts", "src/auth/tokens.ts", "src/api/routes/users.ts",
     "src/api/middleware/rateLimit.ts", "src/db/client.ts", "src/db/migrations/0042_add_org_id.ts",
     "src/components/LoginForm.tsx", "src/hooks/useSession.ts", "src/utils/retry.ts",
     "src/services/billing/invoice.ts", "src/services/webhooks/dispatcher.ts",
     "test/auth/session.test.ts", "src/lib/cache.ts", "src/config/env.ts", "src/workers/queue.ts",
     "src/api/routes/webhooks.test.ts"});
constexpr auto kTsFuncs = std::to_array<std::string_view>(
    {"refreshSession", "validateToken", "createUser", "withRetry", "parseConfig", "handleWebhook",
     "getInvoiceTotal", "useSession", "rateLimiter", "enqueueJob", "fetchWithTimeout",
     "normalizeEmail", "buildQuery", "serializeEvent", "revokeToken"});
constexpr auto kTsTypes = std::to_array<std::string_view>(
    {"SessionStore", "TokenPayload", "UserRepository", "RateLimiter", "InvoiceService",
     "WebhookDispatcher", "RetryPolicy", "AppConfig", "QueueWorker", "CacheEntry"});
constexpr auto kTsTests = std::to_array<std::string_view>(
    {"refreshes an expired session", "rejects tokens with a bad signature",
     "retries on 503 and then gives up", "returns 429 after 100 requests per minute",
     "renders the login form", "creates an invoice with tax", "dedupes webhook deliveries",
     "keeps the session cookie httpOnly"});
constexpr auto kTsErrors = std::to_array<std::string_view>(
    {"TypeError: Cannot read properties of undefined (reading 'userId')",
     "AssertionError: expected 401 to be 200 // Object.is equality",
     "TS2345: Argument of type 'string | undefined' is not assignable to parameter of type "
     "'string'.",
     "Error: Timeout of 5000ms exceeded. For async tests and hooks, ensure \"done()\" is called",
     "SyntaxError: Unexpected token '<', \"<!DOCTYPE \"... is not valid JSON",
     "TS2339: Property 'orgId' does not exist on type 'TokenPayload'.",
     "ReferenceError: structuredClone is not defined", "Error: connect ECONNREFUSED 127.0.0.1:§P",
     "Error: read ECONNRESET",
     "PrismaClientKnownRequestError: Unique constraint failed on the fields: (`email`)"});
constexpr auto kTsTestCmds = std::to_array<std::string_view>(
    {"npm test", "npm test -- src/auth", "npx vitest run test/auth/session.test.ts",
     "npx jest --runInBand", "pnpm test --filter api", "npx vitest run --reporter=verbose",
     "npm run test:e2e"});
constexpr auto kTsBuildCmds = std::to_array<std::string_view>(
    {"npm run build", "npx tsc --noEmit", "npm run lint -- --fix", "npx prisma migrate dev",
     "pnpm install", "npx eslint src --ext .ts,.tsx"});
constexpr auto kTsLibs =
    std::to_array<std::string_view>({"express", "zod", "prisma", "vitest", "jest",
                                     "@tanstack/react-query", "ioredis", "pino", "next"});
constexpr auto kTsCode = std::to_array<std::string_view>({
    R"(export async function §N(req: Request, res: Response): Promise<void> {
  const session = await store.get(req.cookies.sid);
  if (!session || session.expiresAt < Date.now()) {
    res.status(401).json({ error: "session expired" });
    return;
  }
)",
    R"(  const payload = TokenPayload.safeParse(jwt.decode(token));
  if (!payload.success) {
    throw new AuthError("invalid token", { cause: payload.error });
  }
)",
    R"(export class §C {
  private readonly entries = new Map<string, CacheEntry>();

  constructor(private readonly ttlMs = 60_000) {}
)",
    R"(  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isRetryable(err) || attempt === policy.maxAttempts) throw err;
      await sleep(policy.baseDelayMs * 2 ** attempt);
    }
  }
)",
    R"(describe("§C", () => {
  it("§T", async () => {
    const res = await request(app).get("/api/users/me").set("Cookie", cookie);
    expect(res.status).toBe(200);
  });
});
)",
    R"(const schema = z.object({
  email: z.string().email().transform((s) => s.trim().toLowerCase()),
  orgId: z.string().uuid(),
  role: z.enum(["admin", "member", "viewer"]).default("member"),
});
)",
    R"(router.post("/webhooks/:provider", rateLimiter({ windowMs: 60_000, max: 100 }), async (req, res) => {
  const delivery = req.header("x-delivery-id");
  if (await seen.has(delivery)) return res.sendStatus(204);
)",
    R"(  const { data, error } = useQuery({
    queryKey: ["session", userId],
    queryFn: () => fetchWithTimeout(`/api/session/${userId}`, 5_000),
    staleTime: 30_000,
  });
)",
    R"(export function §N(input: string): string {
  // NFC first so the same name typed on macOS and on Linux compares equal.
  return input.normalize("NFC").trim().toLowerCase();
}
)",
    R"(  await prisma.$transaction(async (tx) => {
    const invoice = await tx.invoice.create({ data: { orgId, total, currency: "EUR" } });
    await tx.outbox.create({ data: { type: "invoice.created", payload: invoice } });
  });
)"});
constexpr auto kTsLines = std::to_array<std::string_view>(
    {"  const session = await store.get(req.cookies.sid);",
     "  if (!session || session.expiresAt < Date.now()) {", "import { z } from \"zod\";",
     "export const DEFAULT_TTL_MS = 15 * 60 * 1000;",
     "    await sleep(policy.baseDelayMs * 2 ** attempt);",
     R"(  const token = req.headers.authorization?.replace("Bearer ", "");)",
     "  return res.status(429).set(\"Retry-After\", String(retryAfter)).end();",
     "export async function refreshSession(sid: string): Promise<Session | null> {",
     "  logger.info({ userId, orgId }, \"session refreshed\");",
     "  const total = items.reduce((sum, item) => sum + item.amount, 0);", "}",
     "  expect(res.status).toBe(200);", "import { withRetry } from \"../utils/retry\";",
     "  // TODO: remove once every client sends orgId",
     "  if (err instanceof PrismaClientKnownRequestError && err.code === \"P2002\") {",
     "  const ttl = Number(process.env.SESSION_TTL_MS ?? DEFAULT_TTL_MS);"});
constexpr auto kTsTestHeader = std::to_array<std::string_view>(
    {"\n> web-app@2.3.1 test\n> vitest run\n\n RUN  v2.1.4 /workspace\n\n",
     "\n> api@1.8.0 test\n> jest --runInBand\n\n", "\n RUN  v2.1.4 /workspace\n\n"});
constexpr auto kTsTestPass = std::to_array<std::string_view>(
    {" ✓ test/auth/session.test.ts (§D tests) §Mms\n",
     " ✓ src/api/routes/users.test.ts (§D tests) §Mms\n",
     " ✓ src/utils/retry.test.ts (§D tests) §Mms\n", "PASS src/services/billing/invoice.test.ts\n",
     "PASS src/lib/cache.test.ts (§Mms)\n", "   ✓ §T (§Mms)\n"});
constexpr auto kTsTestFail = std::to_array<std::string_view>(
    {" FAIL  test/auth/session.test.ts > §C > §T\nAssertionError: expected 401 to be 200 // "
     "Object.is equality\n\n- Expected\n+ Received\n\n- 200\n+ 401\n\n ❯ "
     "test/auth/session.test.ts:§D:23\n",
     "  ● §C › §T\n\n    TypeError: Cannot read properties of undefined (reading 'userId')\n\n"
     "      at §N (§F:§D:31)\n      at Object.<anonymous> (test/auth/session.test.ts:§D:18)\n",
     " FAIL  src/api/routes/webhooks.test.ts > webhooks > §T\nError: connect ECONNREFUSED "
     "127.0.0.1:§P\n ❯ TCPConnectWrap.afterConnect [as oncomplete] node:net:1607:16\n",
     "  ● §C › §T\n\n    thrown: \"Exceeded timeout of 5000 ms for a test.\n    Add a timeout "
     "value "
     "to this test to increase the timeout, if this is a long-running test.\"\n"});
constexpr auto kTsTestOkSummary = std::to_array<std::string_view>(
    {"\n Test Files  §D passed (§D)\n      Tests  §D passed (§D)\n   Duration  §Mms\n",
     "\nTest Suites: §D passed, §D total\nTests:       §D passed, §D total\nSnapshots:   0 total\n"
     "Time:        §S.4 s\nRan all test suites.\n"});
constexpr auto kTsTestFailedSummary = std::to_array<std::string_view>(
    {"\n Test Files  1 failed | §D passed (§D)\n      Tests  1 failed | §D passed (§D)\n   "
     "Start at  10:§D:07\n   Duration  §Mms\n",
     "\nTest Suites: 1 failed, §D passed, §D total\nTests:       2 failed, §D passed, §D total\n"
     "Snapshots:   0 total\nTime:        §S.4 s\nRan all test suites.\n"});
constexpr auto kTsBuildDiag = std::to_array<std::string_view>(
    {"src/auth/session.ts:§D:13 - error TS2345: Argument of type 'string | undefined' is not "
     "assignable to parameter of type 'string'.\n",
     "src/api/routes/users.ts(§D,7): error TS2339: Property 'orgId' does not exist on type "
     "'TokenPayload'.\n",
     "§F\n  §D:5  warning  'err' is defined but never used  @typescript-eslint/no-unused-vars\n",
     "§F\n  §D:11  error  Unexpected any. Specify a different type  "
     "@typescript-eslint/no-explicit-any\n",
     "npm warn deprecated inflight@1.0.6: This module is not supported, and leaks memory.\n",
     "dist/assets/index-§H.js   §D.42 kB │ gzip: §D.10 kB\n"});
constexpr auto kTsBuildTail = std::to_array<std::string_view>(
    {"\nFound 2 errors in 2 files.\n\nErrors  Files\n     1  src/auth/session.ts:§D\n     1  "
     "src/api/routes/users.ts:§D\n",
     "✓ §D modules transformed.\n✓ built in §S.§Ds\n",
     "\n✖ §D problems (2 errors, §D warnings)\n  1 error and 0 warnings potentially fixable with "
     "the "
     "`--fix` option.\n",
     "\nadded §D packages, and audited §D packages in §Ss\n\n§D packages are looking for funding\n "
     " "
     "run `npm fund` for details\n\nfound 0 vulnerabilities\n"});

// --- Python ---
constexpr auto kPyFiles = std::to_array<std::string_view>(
    {"app/auth/session.py", "app/api/routes/users.py", "app/models/user.py",
     "app/services/billing.py", "app/db/session.py", "app/workers/tasks.py", "app/core/config.py",
     "tests/test_auth.py", "tests/test_billing.py", "migrations/versions/3f2a_add_org_id.py",
     "app/utils/retry.py", "pipelines/train.py", "pipelines/features.py", "pyproject.toml"});
constexpr auto kPyFuncs = std::to_array<std::string_view>(
    {"refresh_session", "validate_token", "create_user", "with_retry", "load_settings",
     "compute_invoice_total", "enqueue_task", "normalize_email", "build_query", "train_model",
     "load_dataset", "get_db"});
constexpr auto kPyTypes = std::to_array<std::string_view>(
    {"SessionStore", "UserRepository", "InvoiceService", "RateLimiter", "Settings",
     "FeaturePipeline", "TaskQueue", "TokenPayload"});
constexpr auto kPyTests = std::to_array<std::string_view>(
    {"test_refresh_expired_session", "test_rejects_bad_signature",
     "test_invoice_total_includes_tax", "test_rate_limit_returns_429",
     "test_retry_gives_up_after_three_attempts", "test_naive_datetime_is_rejected",
     "test_features_are_deterministic"});
constexpr auto kPyErrors = std::to_array<std::string_view>(
    {"KeyError: 'user_id'", "AttributeError: 'NoneType' object has no attribute 'id'",
     "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "
     "\"localhost\" (127.0.0.1), port 5432 failed: Connection refused",
     "AssertionError: assert 401 == 200",
     "ModuleNotFoundError: No module named 'app.core.settings'",
     "TypeError: can't compare offset-naive and offset-aware datetimes",
     "ValueError: invalid literal for int() with base 10: ''",
     "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings",
     "RecursionError: maximum recursion depth exceeded while calling a Python object"});
constexpr auto kPyTestCmds = std::to_array<std::string_view>(
    {"pytest", "pytest -x tests/test_auth.py", "pytest -k refresh -vv", "uv run pytest tests/",
     "python -m pytest --lf", "pytest tests/test_billing.py::test_invoice_total_includes_tax"});
constexpr auto kPyBuildCmds = std::to_array<std::string_view>(
    {"python -m mypy app", "ruff check . --fix", "alembic upgrade head",
     "uv pip install -e '.[dev]'", "ruff format --check ."});
constexpr auto kPyLibs = std::to_array<std::string_view>(
    {"fastapi", "sqlalchemy", "pydantic", "celery", "pandas", "httpx", "alembic", "numpy"});
constexpr auto kPyCode = std::to_array<std::string_view>({
    R"(async def §N(session_id: str, db: AsyncSession = Depends(get_db)) -> Session:
    session = await db.get(Session, session_id)
    if session is None or session.expires_at < datetime.now(timezone.utc):
        raise HTTPException(status_code=401, detail="session expired")
)",
    R"(class §C(BaseModel):
    model_config = ConfigDict(frozen=True)

    email: EmailStr
    org_id: UUID
    role: Literal["admin", "member", "viewer"] = "member"
)",
    R"(def §N(fn, *, attempts: int = 3, base_delay: float = 0.2):
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except (httpx.ConnectError, httpx.ReadTimeout):
            if attempt == attempts:
                raise
            time.sleep(base_delay * 2**attempt)
)",
    R"(@pytest.fixture
def client(db_session):
    app.dependency_overrides[get_db] = lambda: db_session
    with TestClient(app) as c:
        yield c
    app.dependency_overrides.clear()
)",
    R"(def §T(client, expired_session):
    resp = client.get("/api/users/me", cookies={"sid": expired_session.id})
    assert resp.status_code == 401
    assert resp.json()["detail"] == "session expired"
)",
    R"(    df = pd.read_parquet(path, columns=["user_id", "event", "ts"])
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    features = df.groupby("user_id").agg(events=("event", "count"), last_seen=("ts", "max"))
)",
    R"(@celery_app.task(bind=True, max_retries=5, acks_late=True)
def §N(self, invoice_id: int) -> None:
    try:
        send_invoice_email(invoice_id)
    except SMTPException as exc:
        raise self.retry(exc=exc, countdown=30)
)",
    R"(def §N(value: str) -> str:
    # Casefold rather than lower() so German sharp s and "SS" compare equal.
    return unicodedata.normalize("NFKC", value).strip().casefold()
)"});
constexpr auto kPyLines = std::to_array<std::string_view>(
    {"    session = await db.get(Session, session_id)",
     "    if session is None or session.expires_at < datetime.now(timezone.utc):",
     "from fastapi import APIRouter, Depends, HTTPException", "DEFAULT_TTL = timedelta(minutes=15)",
     "            time.sleep(base_delay * 2**attempt)",
     R"(    return {"id": user.id, "email": user.email})",
     "    total = sum(item.amount for item in invoice.items)",
     "def refresh_session(session_id: str) -> Session | None:",
     R"(    logger.info("session refreshed", extra={"user_id": user_id}))",
     "    assert resp.status_code == 200", "class Settings(BaseSettings):",
     "    # TODO: drop the fallback once every client sends org_id",
     R"(    op.add_column("users", sa.Column("org_id", sa.Uuid(), nullable=True)))",
     "        raise HTTPException(status_code=429, headers={\"Retry-After\": str(retry_after)})"});
constexpr auto kPyTestHeader = std::to_array<std::string_view>(
    {"============================= test session starts ==============================\n"
     "platform linux -- Python 3.12.7, pytest-8.3.3, pluggy-1.5.0\nrootdir: /workspace\n"
     "configfile: pyproject.toml\nplugins: anyio-4.6.2, asyncio-0.24.0, cov-5.0.0\n"
     "collected §D items\n\n",
     "============================= test session starts ==============================\n"
     "collected §D items / 3 deselected / §D selected\n\n"});
constexpr auto kPyTestPass = std::to_array<std::string_view>(
    {"tests/test_auth.py ..........                                            [ §D%]\n",
     "tests/test_billing.py ........s....                                      [ §D%]\n",
     "tests/test_users.py ......                                               [ §D%]\n",
     "tests/test_auth.py::§T PASSED                                [ §D%]\n"});
constexpr auto kPyTestFail = std::to_array<std::string_view>(
    {"tests/test_auth.py ....F....                                             [ §D%]\n\n"
     "=================================== FAILURES ===================================\n"
     "_________________________ §T __________________________\n\n"
     "client = <starlette.testclient.TestClient object at 0x7f3a2c1d5e50>\n\n"
     "    def §T(client):\n        resp = client.get(\"/api/users/me\")\n"
     ">       assert resp.status_code == 200\nE       assert 401 == 200\nE        +  where 401 = "
     "<Response [401 Unauthorized]>.status_code\n\ntests/test_auth.py:§D: AssertionError\n",
     "E   sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server at "
     "\"localhost\" (127.0.0.1), port 5432 failed: Connection refused\nE   \tIs the server running "
     "on that host and accepting TCP/IP connections?\n",
     "Traceback (most recent call last):\n  File \"/workspace/§F\", line §D, in §N\n"
     "    return settings.features[name]\n           ~~~~~~~~~~~~~~~~~^^^^^^\nKeyError: "
     "'user_id'\n"});
constexpr auto kPyTestFailedSummary = std::to_array<std::string_view>(
    {"=========================== short test summary info ============================\n"
     "FAILED tests/test_auth.py::§T - assert 401 == 200\n"
     "========================= 1 failed, §D passed in §S.41s =========================\n"});
constexpr auto kPyTestOkSummary = std::to_array<std::string_view>(
    {"============================== §D passed in §S.07s ==============================\n",
     "========================= §D passed, 2 skipped in §S.88s ========================\n"});
constexpr auto kPyBuildDiag = std::to_array<std::string_view>(
    {"app/api/routes/users.py:§D: error: Item \"None\" of \"User | None\" has no attribute \"id\"  "
     "[union-attr]\n",
     "app/services/billing.py:§D: error: Argument 1 to \"compute_invoice_total\" has incompatible "
     "type \"list[Item] | None\"; expected \"list[Item]\"  [arg-type]\n",
     "app/core/config.py:§D:5: F401 [*] `os` imported but unused\n",
     "tests/test_auth.py:§D:1: I001 [*] Import block is un-sorted or un-formatted\n",
     "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n", "Would reformat: §F\n"});
constexpr auto kPyBuildTail = std::to_array<std::string_view>(
    {"Found 3 errors in 2 files (checked §D source files)\n",
     "Found 4 errors (3 fixed, 1 remaining).\n",
     "INFO  [alembic.runtime.migration] Running upgrade 9c1e -> 3f2a, add org_id to users\n",
     "Resolved §D packages in §Mms\nInstalled §D packages in §Mms\n",
     "Success: no issues found in §D source files\n"});

// --- C++ ---
constexpr auto kCcFiles = std::to_array<std::string_view>(
    {"src/store/sqlite_store.cc", "src/store/sqlite_store.h", "src/net/http_client.cc",
     "src/core/ring_buffer.h", "src/ingest/batcher.cc", "src/util/json_writer.cc",
     "tests/store/sqlite_store_test.cc", "CMakeLists.txt", "src/parser/lexer.cc",
     "src/render/mesh.cpp", "include/engine/allocator.hpp", "src/book/order_book.cc"});
constexpr auto kCcFuncs = std::to_array<std::string_view>(
    {"FlushBatch", "ParseHeader", "Reserve", "OnReadable", "Compact", "TryPush", "EncodeVarint",
     "LoadConfig", "ReadFrame", "Tokenize", "MatchOrders"});
constexpr auto kCcTypes = std::to_array<std::string_view>(
    {"SqliteStore", "HttpClient", "RingBuffer", "Batcher", "JsonWriter", "Lexer", "ArenaAllocator",
     "ConnectionPool", "OrderBook"});
constexpr auto kCcTests = std::to_array<std::string_view>(
    {"SqliteStoreTest.RollsBackOnBusy", "RingBufferTest.WrapsAround",
     "BatcherTest.FlushesOnDeadline", "LexerTest.HandlesUtf8Identifiers",
     "HttpClientTest.RetriesOnReset", "OrderBookTest.MatchesCrossingOrders"});
constexpr auto kCcErrors = std::to_array<std::string_view>(
    {"error: use of deleted function 'std::unique_ptr<Batch>::unique_ptr(const "
     "std::unique_ptr<Batch>&)'",
     "ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010",
     "Segmentation fault (core dumped)",
     "error: 'optional' in namespace 'std' does not name a template type",
     "undefined reference to `sqlite3_prepare_v2'",
     "terminate called after throwing an instance of 'std::out_of_range'",
     "WARNING: ThreadSanitizer: data race (pid=4182)",
     "error: no matching function for call to 'RingBuffer<Event>::TryPush(const Event&)'"});
constexpr auto kCcTestCmds = std::to_array<std::string_view>(
    {"ctest --test-dir build --output-on-failure",
     "./build/tests/store_test --gtest_filter=SqliteStore*", "ctest --test-dir build -R Batcher -V",
     "./build/tests/unit_tests --gtest_repeat=50 --gtest_break_on_failure"});
constexpr auto kCcBuildCmds = std::to_array<std::string_view>(
    {"cmake --build build -j8", "ninja -C build",
     "cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Debug -DENABLE_ASAN=ON",
     "clang-tidy -p build src/store/sqlite_store.cc"});
constexpr auto kCcLibs = std::to_array<std::string_view>(
    {"abseil", "fmt", "sqlite3", "Boost.Asio", "googletest", "spdlog", "Eigen"});
constexpr auto kCcCode = std::to_array<std::string_view>({
    R"(Status §C::§N(std::span<const Event> events) {
  std::lock_guard<std::mutex> lock(mu_);
  if (events.empty()) return Status::Ok();
  Transaction txn(db_);
)",
    R"(  for (const Event& e : events) {
    stmt.Reset();
    stmt.Bind(1, e.session_id);
    stmt.Bind(2, e.timestamp);
    if (int rc = stmt.Step(); rc != SQLITE_DONE) return FromSqlite(rc, db_);
  }
  return txn.Commit();
}
)",
    R"(template <typename T>
bool RingBuffer<T>::TryPush(T value) {
  const std::size_t head = head_.load(std::memory_order_relaxed);
  const std::size_t next = (head + 1) & mask_;
  if (next == tail_.load(std::memory_order_acquire)) return false;  // full
)",
    R"(TEST(§C, §N) {
  RingBuffer<int> rb(4);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(rb.TryPush(i));
  EXPECT_FALSE(rb.TryPush(99));
  EXPECT_EQ(rb.size(), 3u);
}
)",
    R"(class §C {
 public:
  explicit §C(std::size_t capacity);
  §C(const §C&) = delete;
  §C& operator=(const §C&) = delete;

 private:
  std::vector<std::byte> storage_;
  std::size_t used_ = 0;
};
)",
    R"(  // Resize before taking the pointer: growing the vector would invalidate it.
  buffer_.resize(offset + frame.size());
  std::memcpy(buffer_.data() + offset, frame.data(), frame.size());
)",
    R"(add_library(core STATIC src/store/sqlite_store.cc src/ingest/batcher.cc)
target_link_libraries(core PUBLIC SQLite::SQLite3 fmt::fmt Threads::Threads)
target_compile_options(core PRIVATE -Wall -Wextra -Werror)
)"});
constexpr auto kCcLines = std::to_array<std::string_view>(
    {"  std::lock_guard<std::mutex> lock(mu_);", "  if (events.empty()) return Status::Ok();",
     "#include <string_view>", "constexpr std::size_t kMaxBatch = 512;",
     "    if (int rc = stmt.Step(); rc != SQLITE_DONE) return FromSqlite(rc, db_);",
     "  const std::size_t next = (head + 1) & mask_;",
     "Status SqliteStore::FlushBatch(std::span<const Event> events) {",
     R"(  LOG(INFO) << "flushed " << events.size() << " events";)", "  EXPECT_EQ(rb.size(), 3u);",
     "  // TODO(perf): avoid the copy once callers pass ownership", "}",
     "  auto it = std::lower_bound(levels_.begin(), levels_.end(), price);",
     "  return absl::StrCat(\"frame too large: \", size);"});
constexpr auto kCcTestHeader = std::to_array<std::string_view>(
    {"[==========] Running §D tests from §D test suites.\n[----------] Global test environment "
     "set-up.\n",
     "Test project /workspace/build\n"});
constexpr auto kCcTestPass = std::to_array<std::string_view>(
    {"[ RUN      ] §T\n[       OK ] §T (§D ms)\n",
     "      Start §D: store_test\n§D/14 Test #§D: store_test .......................   Passed    "
     "0.§D sec\n",
     "[ RUN      ] RingBufferTest.WrapsAround\n[       OK ] RingBufferTest.WrapsAround (0 ms)\n"});
constexpr auto kCcTestFail = std::to_array<std::string_view>(
    {"[ RUN      ] §T\ntests/store/sqlite_store_test.cc:§D: Failure\nExpected equality of these "
     "values:\n  rows.size()\n    Which is: 3\n  4\n[  FAILED  ] §T (§D ms)\n",
     "==4182==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010 at pc "
     "0x55d1c3 bp 0x7ffd sp 0x7ffd\nREAD of size 8 at 0x602000000010 thread T0\n    #0 0x55d1c3 in "
     "§C::§N(std::span<Event const>) §F:§D\n    #1 0x55e2a1 in main src/main.cc:42\n",
     "[ RUN      ] HttpClientTest.RetriesOnReset\nunknown file: Failure\nC++ exception with "
     "description \"connect: Connection refused [system:111]\" thrown in the test body.\n",
     "Program received signal SIGSEGV, Segmentation fault.\n0x000055555555a1b4 in "
     "§C::§N (this=0x0) at §F:§D\n"});
constexpr auto kCcTestOkSummary = std::to_array<std::string_view>(
    {"[==========] §D tests from §D test suites ran. (§D ms total)\n[  PASSED  ] §D tests.\n",
     "\n100% tests passed, 0 tests failed out of 14\n\nTotal Test time (real) =   §S.21 sec\n"});
constexpr auto kCcTestFailedSummary = std::to_array<std::string_view>(
    {"[==========] §D tests from §D test suites ran. (§D ms total)\n[  PASSED  ] §D tests.\n"
     "[  FAILED  ] 1 test, listed below:\n[  FAILED  ] §T\n\n 1 FAILED TEST\n",
     "\n93% tests passed, 1 tests failed out of 14\n\nTotal Test time (real) =   §S.21 sec\n\nThe "
     "following tests FAILED:\n\t  §D - store_test (Failed)\n"});
constexpr auto kCcBuildDiag = std::to_array<std::string_view>(
    {"[§D/212] Building CXX object src/CMakeFiles/core.dir/store/sqlite_store.cc.o\n",
     "[§D/212] Building CXX object src/CMakeFiles/core.dir/ingest/batcher.cc.o\n",
     "[§D/212] Building CXX object tests/CMakeFiles/unit_tests.dir/store/sqlite_store_test.cc.o\n",
     "§F:§D:17: error: no matching function for call to 'RingBuffer<Event>::TryPush(const "
     "Event&)'\n",
     "§F:§D:9: warning: unused variable 'rc' [-Wunused-variable]\n",
     "§F:§D:5: warning: comparison of integer expressions of different signedness: 'int' and "
     "'std::size_t' [-Wsign-compare]\n"});
constexpr auto kCcBuildTail = std::to_array<std::string_view>(
    {"ninja: build stopped: subcommand failed.\n",
     "[212/212] Linking CXX executable tests/unit_tests\n",
     "-- Configuring done (0.§Ds)\n-- Generating done (0.0s)\n-- Build files have been written to: "
     "/workspace/build\n",
     "/usr/bin/ld: src/libcore.a(sqlite_store.cc.o): in function `SqliteStore::Open()':\n"
     "sqlite_store.cc:(.text+0x1a4): undefined reference to `sqlite3_open_v2'\ncollect2: error: ld "
     "returned 1 exit status\nninja: build stopped: subcommand failed.\n"});

// --- Rust ---
constexpr auto kRsFiles = std::to_array<std::string_view>(
    {"src/main.rs", "src/lib.rs", "src/parser/mod.rs", "src/server/handlers.rs", "src/db/pool.rs",
     "src/config.rs", "src/cache/lru.rs", "tests/integration.rs", "Cargo.toml", "src/error.rs",
     "src/book/matching.rs"});
constexpr auto kRsFuncs = std::to_array<std::string_view>(
    {"parse_request", "handle_upload", "get_pool", "load_config", "evict_expired", "spawn_worker",
     "encode_frame", "retry_with_backoff", "match_orders"});
constexpr auto kRsTypes = std::to_array<std::string_view>(
    {"AppState", "Config", "LruCache", "ConnectionPool", "Frame", "ParseError", "OrderBook"});
constexpr auto kRsTests = std::to_array<std::string_view>(
    {"parser::tests::parses_nested_arrays", "cache::lru::tests::evicts_oldest",
     "server::tests::rejects_oversized_body", "upload_roundtrip",
     "book::matching::tests::crossing_orders_fill"});
constexpr auto kRsErrors = std::to_array<std::string_view>(
    {"error[E0502]: cannot borrow `self.entries` as mutable because it is also borrowed as "
     "immutable",
     "error[E0308]: mismatched types: expected `&str`, found `String`",
     "called `Result::unwrap()` on an `Err` value: Os { code: 111, kind: ConnectionRefused, "
     "message: \"Connection refused\" }",
     "error[E0433]: failed to resolve: use of undeclared crate or module `tokio`",
     "error: lifetime may not live long enough",
     "error[E0277]: `Rc<RefCell<State>>` cannot be sent between threads safely"});
constexpr auto kRsTestCmds = std::to_array<std::string_view>(
    {"cargo test", "cargo test parser::", "cargo test --all-features -- --nocapture",
     "cargo nextest run"});
constexpr auto kRsBuildCmds =
    std::to_array<std::string_view>({"cargo build --release", "cargo clippy -- -D warnings",
                                     "cargo fmt --check", "cargo run -- --config dev.toml"});
constexpr auto kRsLibs = std::to_array<std::string_view>(
    {"tokio", "serde", "axum", "sqlx", "anyhow", "thiserror", "clap", "tracing"});
constexpr auto kRsCode = std::to_array<std::string_view>({
    R"(pub async fn §N(
    State(state): State<AppState>,
    Json(req): Json<UploadRequest>,
) -> Result<Json<UploadResponse>, AppError> {
    let pool = state.pool.get().await?;
)",
    R"(impl<K: Hash + Eq + Clone, V> §C<K, V> {
    pub fn get(&mut self, key: &K) -> Option<&V> {
        let idx = *self.index.get(key)?;
        self.touch(idx);
        Some(&self.entries[idx].value)
    }
)",
    R"(#[derive(Debug, thiserror::Error)]
pub enum §C {
    #[error("unexpected token {0:?} at offset {1}")]
    UnexpectedToken(Token, usize),
    #[error("unterminated string starting at {0}")]
    UnterminatedString(usize),
}
)",
    R"(    let mut delay = Duration::from_millis(100);
    for attempt in 1..=max_attempts {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if attempt < max_attempts => {
                tracing::warn!(%e, attempt, "retrying");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(e) => return Err(e),
        }
    }
)",
    R"(#[tokio::test]
async fn §N() {
    let app = test_app().await;
    let res = app.post("/upload").body(vec![0u8; 11 << 20]).send().await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}
)",
    R"([dependencies]
tokio = { version = "1.41", features = ["full"] }
serde = { version = "1", features = ["derive"] }
axum = "0.7"
)"});
constexpr auto kRsLines = std::to_array<std::string_view>(
    {"    let pool = state.pool.get().await?;", "        let idx = *self.index.get(key)?;",
     "use std::collections::HashMap;", "const MAX_BODY: usize = 10 << 20;",
     "                tokio::time::sleep(delay).await;",
     "pub fn parse_request(input: &str) -> Result<Request, ParseError> {",
     "    tracing::info!(user_id = %id, \"session refreshed\");",
     "    assert_eq!(res.status(), StatusCode::OK);", "}",
     "    // SAFETY: idx comes from self.index, which only holds valid slots.",
     "        .map_err(|e| AppError::Db(e.to_string()))?;",
     "    let level = self.bids.entry(price).or_default();"});
constexpr auto kRsTestHeader = std::to_array<std::string_view>(
    {"   Compiling serde v1.0.214\n   Compiling tokio v1.41.0\n   Compiling app v0.4.2 "
     "(/workspace)\n    Finished `test` profile [unoptimized + debuginfo] target(s) in §S.82s\n"
     "     Running unittests src/lib.rs (target/debug/deps/app-3f9a1c2b7d)\n\nrunning §D tests\n",
     "    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.§Ds\n     Running "
     "tests/integration.rs (target/debug/deps/integration-9e2f)\n\nrunning §D tests\n"});
constexpr auto kRsTestPass = std::to_array<std::string_view>(
    {"test §T ... ok\n",
     "test cache::lru::tests::evicts_oldest ... ok\ntest cache::lru::tests::get_refreshes ... ok\n",
     "test parser::tests::rejects_trailing_comma ... ok\n"});
constexpr auto kRsTestFail = std::to_array<std::string_view>(
    {"test §T ... FAILED\n\nfailures:\n\n---- §T stdout ----\nthread '§T' panicked at "
     "§F:§D:9:\nassertion `left == right` failed\n  left: 3\n right: 4\nnote: run with "
     "`RUST_BACKTRACE=1` environment variable to display a backtrace\n",
     "thread 'main' panicked at src/db/pool.rs:§D:14:\ncalled `Result::unwrap()` on an `Err` "
     "value: "
     "Os { code: 111, kind: ConnectionRefused, message: \"Connection refused\" }\n"});
constexpr auto kRsTestOkSummary = std::to_array<std::string_view>(
    {"\ntest result: ok. §D passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in "
     "0.§Ds\n"});
constexpr auto kRsTestFailedSummary = std::to_array<std::string_view>(
    {"\ntest result: FAILED. §D passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished "
     "in 0.§Ds\n\nerror: test failed, to rerun pass `--lib`\n"});
constexpr auto kRsBuildDiag = std::to_array<std::string_view>(
    {"   Compiling axum v0.7.7\n", "   Compiling sqlx-core v0.8.2\n",
     "    Checking app v0.4.2 (/workspace)\n",
     "error[E0502]: cannot borrow `self.entries` as mutable because it is also borrowed as "
     "immutable\n  --> §F:§D:13\n   |\n§D |         let e = &self.entries[idx];\n   |           "
     "      ------------ immutable borrow occurs here\n",
     "warning: unused variable: `attempt`\n  --> §F:§D:9\n   |\n   = note: "
     "`#[warn(unused_variables)]` on by default\n",
     "warning: this `if` has identical blocks\n  --> §F:§D:5\n   = help: for further information "
     "visit https://rust-lang.github.io/rust-clippy/master/index.html#if_same_then_else\n"});
constexpr auto kRsBuildTail = std::to_array<std::string_view>(
    {"error: could not compile `app` (lib) due to 2 previous errors\n",
     "    Finished `release` profile [optimized] target(s) in §S.07s\n",
     "warning: `app` (lib) generated 2 warnings\n    Finished `dev` profile [unoptimized + "
     "debuginfo] target(s) in §S.31s\n"});

// clang-format off
constexpr auto kLangPacks = std::to_array<LangPack>({
    {"ts", kTsFiles, kTsFuncs, kTsTypes, kTsTests, kTsErrors, kTsTestCmds, kTsBuildCmds, kTsLibs,
     kTsCode, kTsLines, kTsTestHeader, kTsTestPass, kTsTestFail, kTsTestOkSummary,
     kTsTestFailedSummary, kTsBuildDiag, kTsBuildTail},
    {"python", kPyFiles, kPyFuncs, kPyTypes, kPyTests, kPyErrors, kPyTestCmds, kPyBuildCmds,
     kPyLibs, kPyCode, kPyLines, kPyTestHeader, kPyTestPass, kPyTestFail, kPyTestOkSummary,
     kPyTestFailedSummary, kPyBuildDiag, kPyBuildTail},
    {"cpp", kCcFiles, kCcFuncs, kCcTypes, kCcTests, kCcErrors, kCcTestCmds, kCcBuildCmds, kCcLibs,
     kCcCode, kCcLines, kCcTestHeader, kCcTestPass, kCcTestFail, kCcTestOkSummary,
     kCcTestFailedSummary, kCcBuildDiag, kCcBuildTail},
    {"rust", kRsFiles, kRsFuncs, kRsTypes, kRsTests, kRsErrors, kRsTestCmds, kRsBuildCmds, kRsLibs,
     kRsCode, kRsLines, kRsTestHeader, kRsTestPass, kRsTestFail, kRsTestOkSummary,
     kRsTestFailedSummary, kRsBuildDiag, kRsBuildTail}
});
// clang-format on

struct RepoInfo {
  std::string_view url;
  Lang lang;
};
constexpr auto kRepos =
    std::to_array<RepoInfo>({{"https://github.com/acme-corp/web-app", Lang::kTypeScript},
                             {"https://github.com/acme-corp/payments-api", Lang::kTypeScript},
                             {"https://github.com/vibekit/dashboard", Lang::kTypeScript},
                             {"https://github.com/northwind-labs/checkout", Lang::kTypeScript},
                             {"https://github.com/orbitly/sdk-js", Lang::kTypeScript},
                             {"https://github.com/northwind-labs/ml-pipeline", Lang::kPython},
                             {"https://github.com/acme-corp/billing-service", Lang::kPython},
                             {"https://github.com/datafox/etl-jobs", Lang::kPython},
                             {"https://github.com/orbitly/api-server", Lang::kPython},
                             {"https://github.com/quanta-systems/trading-engine", Lang::kCpp},
                             {"https://github.com/vibekit/telemetry-core", Lang::kCpp},
                             {"https://github.com/pixelforge/render-engine", Lang::kCpp},
                             {"https://github.com/hashline/edge-proxy", Lang::kRust},
                             {"https://github.com/datafox/stream-ingest", Lang::kRust},
                             {"https://github.com/quanta-systems/orderbook-rs", Lang::kRust}});
constexpr auto kRepoWeights = std::to_array<int>({14, 10, 7, 6, 4, 8, 7, 5, 5, 5, 4, 3, 4, 3, 2});
static_assert(std::size(kRepoWeights) == std::size(kRepos));

// --- Agents, models, modes ---
constexpr auto kAgents =
    std::to_array<std::string_view>({"claude", "codex", "gemini", "cursor", "opencode"});
constexpr auto kAgentWeights = std::to_array<int>({42, 22, 14, 12, 10});
enum Agent : std::uint8_t { kClaude, kCodex, kGemini, kCursor, kOpenCode };

struct ModelInfo {
  std::string_view name;
  std::string_view system;  // OpenTelemetry gen_ai.system
};
constexpr auto kModels = std::to_array<ModelInfo>({{"claude-sonnet-4-5", "anthropic"},
                                                   {"claude-opus-4-1", "anthropic"},
                                                   {"claude-haiku-4-5", "anthropic"},
                                                   {"gpt-5-codex", "openai"},
                                                   {"gpt-5", "openai"},
                                                   {"gpt-5-mini", "openai"},
                                                   {"gemini-2.5-pro", "gcp.gemini"},
                                                   {"gemini-2.5-flash", "gcp.gemini"},
                                                   {"composer-1", "cursor"}});
// Per agent, weights over kModels.
constexpr std::array<std::array<int, kModels.size()>, 5> kModelWeights = {{
    {60, 15, 25, 0, 0, 0, 0, 0, 0},   // claude
    {0, 0, 0, 65, 25, 10, 0, 0, 0},   // codex
    {0, 0, 0, 0, 0, 0, 60, 40, 0},    // gemini
    {35, 5, 0, 0, 25, 0, 5, 0, 30},   // cursor
    {40, 5, 5, 0, 25, 5, 10, 10, 0},  // opencode
}};

constexpr auto kModes = std::to_array<std::string_view>({"code", "ask", "plan", "review"});
constexpr auto kModeWeights = std::to_array<int>({55, 18, 12, 15});
enum Mode : std::uint8_t { kCode, kAsk, kPlan, kReview, kNoMode };
// How long sessions of each mode run, relative to the average: ask is a quick answer, code runs
// edit/test loops.
constexpr std::array kModeLengthFactor = {1.25, 0.45, 0.7, 0.9, 0.8};

constexpr auto kPriorities = std::to_array<std::string_view>({"low", "normal", "high", "urgent"});
constexpr auto kPriorityWeights = std::to_array<int>({20, 55, 20, 5});

constexpr auto kBranches = std::to_array<std::string_view>(
    {"main", "fix/session-refresh", "feat/rate-limiting", "chore/bump-deps", "feat/org-id",
     "fix/flaky-webhook-test", "refactor/retry-policy", "perf/batch-inserts"});
constexpr auto kAreas = std::to_array<std::string_view>(
    {"session refresh", "webhook delivery", "billing", "user signup", "search", "rate limiting",
     "file upload", "the admin dashboard", "CSV export", "background jobs", "password reset"});

// Tool names as each agent's harness spells them: shell, read, edit, grep, write.
constexpr std::array<std::array<std::string_view, 5>, 5> kToolNames = {{
    {"Bash", "Read", "Edit", "Grep", "Write"},
    {"shell", "read_file", "apply_patch", "rg", "write_file"},
    {"run_shell_command", "read_file", "replace", "search_file_content", "write_file"},
    {"run_terminal_cmd", "read_file", "edit_file", "grep_search", "write"},
    {"bash", "read", "edit", "grep", "write"},
}};

constexpr auto kGitCmds = std::to_array<std::string_view>(
    {"git status --short", "git diff --stat", "git log --oneline -5", "git diff HEAD~1 -- §F",
     "git stash list"});
constexpr auto kGitOut = std::to_array<std::string_view>(
    {" M §F\n M §F\n?? §F\n",
     " §F | §D ++++++++----\n §F |  7 ++--\n 2 files changed, §D insertions(+), 6 deletions(-)\n",
     "§H (HEAD -> §R) Fix §U regression\n§H Add tests for §N\n§H Merge pull request #§D from "
     "acme-corp/§R\n§H Bump §L\n",
     "On branch §R\nYour branch is up to date with 'origin/§R'.\n\nChanges not staged for commit:\n"
     "  (use \"git add <file>...\" to update what will be committed)\n\tmodified:   §F\n\n"});
constexpr auto kMiscShellOut = std::to_array<std::string_view>(
    {"curl: (7) Failed to connect to localhost port §P after 0 ms: Couldn't connect to server\n",
     "Error: connect ECONNREFUSED 127.0.0.1:§P\n    at TCPConnectWrap.afterConnect [as oncomplete] "
     "(node:net:1607:16) {\n  errno: -111,\n  code: 'ECONNREFUSED',\n  syscall: 'connect',\n  "
     "address: '127.0.0.1',\n  port: §P\n}\n",
     "total §D\ndrwxr-xr-x  8 agent agent 4096 Jan  1 09:12 .\n-rw-r--r--  1 agent agent  §D Jan  "
     "1 "
     "09:12 README.md\ndrwxr-xr-x  6 agent agent 4096 Jan  1 09:12 src\n",
     "bash: line 1: jq: command not found\n",
     "Docker version 27.3.1, build ce12230\nCONTAINER ID   IMAGE         STATUS         PORTS\n"
     "3f9a1c2b7d4e   postgres:16   Up 2 minutes   0.0.0.0:5432->5432/tcp\n"});
constexpr auto kMiscCmds =
    std::to_array<std::string_view>({"curl -s localhost:§P/healthz", "ls -la", "docker ps",
                                     "cat .env.example", "jq . package.json"});

// --- Prose ---
constexpr auto kSentences = std::to_array<std::string_view>(
    {"I'll start by reading §F to understand how `§N` handles expired tokens. ",
     "The failing test is `§T`: it expects a 200, but the handler returns 401 because the session "
     "lookup runs before the cookie is parsed. ",
     "Let me run `§K` to reproduce the failure first. ",
     "The root cause is a race between `§N` and the background refresh: both read the same row and "
     "the second write wins. ",
     "I've updated §F so that `§N` returns early when the payload is missing. ",
     "Next, I'll add a regression test for the empty-string case. ",
     "This looks like a flaky test: it depends on wall-clock time, so I'll inject a fake clock "
     "instead of sleeping. ",
     "The error `§E` comes from §F, line §D. ",
     "Note that §L changed its default timeout in the last major version, which is why this "
     "started "
     "failing after the upgrade. ",
     "I'd keep the public API unchanged and only touch the internal helper. ",
     "There are two options here: make `§N` idempotent, or add a unique constraint and handle the "
     "conflict. The first keeps the migration small. ",
     "Looking at the git history, the regression came in with §H. ",
     "I couldn't find any other callers of `§N` besides §F. ",
     "The tests pass locally now; the remaining warning is unrelated to this change. ",
     "`§C` holds the lock while it calls out to the network, which is why requests pile up under "
     "load. ",
     "Moving the retry logic into `§N` means every caller gets the same backoff. ",
     "The build fails because §F still imports the old module path. ",
     "I'll check whether §L is configured the same way in CI. ",
     "That's consistent with the stack trace: the pointer is used after the batch was freed. ",
     "The fix is a one-line change, but I also added a test so it doesn't regress. ",
     "This also explains the intermittent 500s in §U. ",
     "I'm going to avoid adding a new dependency; the existing `§C` already does what we need. ",
     "The p99 latency went from §M ms to §D ms with the batched version. ",
     "Summary of changes:\n- `§N` now validates its input\n- added tests for `§C`\n- updated §F\n",
     "## Plan\n1. Reproduce with `§K`\n2. Fix `§N` in §F\n3. Add a regression test\n4. Run the "
     "full "
     "suite\n",
     "**Root cause:** `§N` assumes the cache entry exists, but it is evicted after the TTL. ",
     "The database isn't reachable from the sandbox (ECONNREFUSED on port §P), so I'll mock the "
     "client in the unit tests. ",
     "All §D tests pass now. ",
     "Done: the change is limited to §F and its test. ",
     "Edge case: an empty list used to return `undefined`; it now returns an empty result. ",
     "I'll make the handler idempotent by keying on the delivery id. ",
     "Before changing anything, let me look at how `§C` is constructed in the tests. ",
     "Hmm, that didn't work: the same assertion still fails, so the cache isn't the culprit. ",
     "The deadlock happens when `§N` takes the two locks in the opposite order. ",
     "Good catch in the review: the migration has to be backwards compatible because old pods keep "
     "running during the rollout. "});
// Prose with non-ASCII characters, mixed in now and then (see Impl::PickProse) so that exports
// and full-text search see real UTF-8 without it dominating the text.
constexpr auto kUnicodeProse = std::to_array<std::string_view>(
    {"Using a naïve string comparison here breaks for non-ASCII emails like zoë@exämple.com, so I "
     "normalise them first. ",
     "The request flow is: middleware → `§N` → `§C` → database. ", "All §D tests pass now ✅ ",
     "Done — the change is limited to §F and its test. ", "That fixed it 🎉 ",
     "This loop is O(n²) in the number of sessions; a map keyed by id would make it linear. ",
     "⚠️ This changes the public response shape; clients on older versions will break. ",
     "Estimated effort: 2–3 days, mostly tests… ",
     "The user's display name \"José Müller\" got mangled to \"JosÃ© MÃ¼ller\": that's UTF-8 "
     "decoded "
     "as Latin-1 somewhere between §L and the database. ",
     "Latency: p50 ≈ §M ms, p99 ≈ §M ms (±5%). "});
constexpr auto kShortProse = std::to_array<std::string_view>(
    {"Let me run the tests again.", "Now I'll check the config.", "Running the linter now.",
     "Looks good so far.", "Checking git status.", "Let me look at the test file.",
     "That fixed it.", "Reading the stack trace.", "Applying the fix now.",
     "Let me search for callers.", "Build is green.", "One more test to update."});
constexpr auto kReviewProse = std::to_array<std::string_view>(
    {"In §F, `§N` swallows the error from §L; I'd log it and rethrow. ",
     "Nit: `§C` is misleading, since it also writes. Maybe rename it. ",
     "This loop is quadratic in the number of sessions; a map keyed by id would make it linear. ",
     "Missing test: what happens when `§N` is called twice with the same id? ",
     "Security: the token is logged at info level on line §D of §F. Please redact it. ",
     "LGTM once the migration is split into expand and contract steps. ",
     "Heads up: this changes the public response shape; clients on older versions will break. "});
constexpr auto kPlanProse = std::to_array<std::string_view>(
    {"Step 1: add the new column as nullable and backfill it in batches of §D rows. ",
     "Step 2: switch reads to the new path behind a feature flag. ",
     "Step 3: remove the old code path once the flag has been at 100% for a week. ",
     "Risks: the backfill holds row locks, so it should run off-peak. ",
     "Open question: do we need to support the v1 API during the migration? ",
     "Estimated effort: two to three days, mostly tests. "});

// --- Prompts, by mode ---
constexpr auto kCodePrompts = std::to_array<std::string_view>(
    {"Fix the failing test in §F. It started failing after the last merge with:\n§E",
     "Add rate limiting to the §U endpoint: max 100 requests per minute per API key, return 429 "
     "with a Retry-After header.",
     "Refactor `§N` in §F to use async/await instead of callbacks, keeping the behavior identical.",
     "Implement `§N` in §F. It should validate the input and return a typed error instead of "
     "throwing.",
     "The build is broken: `§B` fails with `§E`. Please fix it.",
     "Write unit tests for `§C` covering the empty, single-item and overflow cases.",
     "Our CI is flaky on `§T`. Figure out why and make it deterministic.",
     "Bump §L to the latest major version and fix whatever breaks.",
     "Add structured logging to `§N` so we can trace requests end to end.",
     "fix the bug where users get logged out randomly in §U",
     "`§K` fails locally with §E, can you take a look?",
     "Add an org_id column to the users table with a migration and update `§C` to use it.",
     "Make `§N` idempotent; webhooks are sometimes delivered twice.",
     "Speed up `§N`, it's the hot path for §U and p99 is §M ms."});
// A small share of users write in their own language.
constexpr auto kForeignPrompts = std::to_array<std::string_view>(
    {"Corrige le test qui échoue dans §F après la mise à jour de §L.",
     "修复 §F 中的会话刷新问题，测试 `§T` 一直失败。",
     "Bitte überprüfe §F – `§K` schlägt seit dem Update von §L fehl.",
     "§F のテスト `§T` が失敗する原因を調べてください。"});
constexpr auto kAskPrompts = std::to_array<std::string_view>(
    {"Why does `§K` fail with `§E` only on CI?",
     "How does `§N` in §F decide when to refresh the token?",
     "What's the difference between §L and §L for our use case?",
     "Explain what `§C` does and who calls it.", "Is it safe to call `§N` from multiple threads?",
     "where is the retry policy for §U configured?", "Can you explain this error? §E"});
constexpr auto kPlanPrompts = std::to_array<std::string_view>(
    {"Plan how to split §F into smaller modules without breaking the public API.",
     "We need multi-tenant support (org_id on every table). Propose a migration plan.",
     "Outline the steps to move background jobs for §U from cron to a queue.",
     "Plan the upgrade from §L to its next major version, including rollout and rollback."});
constexpr auto kReviewPrompts = std::to_array<std::string_view>(
    {"Review the changes in PR #§D (touches §F and §F) and point out bugs, missing tests and "
     "naming issues.",
     "Review §F for security problems, especially around token validation.",
     "Can you review my diff for `§N`? I'm not sure about the error handling.",
     "Review branch §R before I merge it."});
constexpr auto kPromptExtras = std::to_array<std::string_view>(
    {" Don't change the public API.", " Keep the diff small.",
     " Make sure `§K` passes before you finish.",
     " Use the existing `§C` helper rather than adding a dependency.",
     " We're on §L, so stay compatible with it.", " It only happens under load, maybe a race?",
     " This is blocking the release.", " Please also update the docs.",
     " I already tried clearing the cache, no luck."});
constexpr auto kUnicodePromptExtras = std::to_array<std::string_view>(
    {" This is blocking the release 🚀", " It's the naïve retry loop again — it never backs off.",
     " Customer names like \"Zoë Ørsted\" break the CSV export."});

// --- Errors ---
struct ErrorKindInfo {
  std::string_view type;
  ErrorSeverity severity;
  bool retryable;
};
enum ErrorKind : std::uint8_t {
  kRateLimit,
  kOverloaded,
  kToolExecution,
  kTimeout,
  kApiConnection,
  kInvalidToolInput,
  kPermissionDenied,
  kContextLength,
  kSandbox,
  kErrorKindCount,
};
constexpr auto kErrorKinds =
    std::to_array<ErrorKindInfo>({{"RateLimitError", ErrorSeverity::kMedium, true},
                                  {"OverloadedError", ErrorSeverity::kMedium, true},
                                  {"ToolExecutionError", ErrorSeverity::kHigh, false},
                                  {"TimeoutError", ErrorSeverity::kHigh, true},
                                  {"APIConnectionError", ErrorSeverity::kHigh, true},
                                  {"InvalidToolInputError", ErrorSeverity::kLow, false},
                                  {"PermissionDeniedError", ErrorSeverity::kLow, false},
                                  {"ContextLengthExceededError", ErrorSeverity::kCritical, false},
                                  {"SandboxError", ErrorSeverity::kCritical, false}});
static_assert(std::size(kErrorKinds) == kErrorKindCount);
// Errors a session recovers from, and the ones that end it.
constexpr auto kRecoverableErrorWeights = std::to_array<int>({35, 15, 20, 10, 8, 7, 5, 0, 0});
constexpr auto kFatalErrorWeights = std::to_array<int>({8, 4, 20, 25, 10, 0, 0, 18, 15});

// ---------------------------------------------------------------------------------------------
// Small helpers.
// ---------------------------------------------------------------------------------------------

// Decimal digits of v into `buf`; returns how many.
std::size_t FormatInt(std::int64_t v, std::array<char, 24>* buf) {
  const auto res = std::to_chars(buf->data(), buf->data() + buf->size(), v);
  return static_cast<std::size_t>(res.ptr - buf->data());
}

void AppendInt(std::int64_t v, std::string* out) {
  std::array<char, 24> buf;
  // (pointer, length): the iterator-pair overload of append goes through the slower replace().
  out->append(buf.data(), FormatInt(v, &buf));
}

constexpr std::string_view kHex = "0123456789abcdef";

void AppendHex(std::uint64_t bits, int digits, std::string* out) {
  for (int i = 0; i < digits; ++i) {
    out->push_back(kHex[(bits >> (4 * (digits - 1 - i))) & 0xF]);
  }
}

std::size_t CountCodePoints(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }
  return n;
}

// Cuts *s to at most max_bytes without splitting a UTF-8 sequence.
void TruncateUtf8(std::string* s, std::size_t max_bytes) {
  if (s->size() <= max_bytes) {
    return;
  }
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>((*s)[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  s->resize(cut);
}

// clear() + append() rather than assign(): assign goes through the general _M_replace, which
// costs noticeably more for the handful of short strings set on every event.
void Set(std::string* field, std::string_view value) {
  field->clear();
  field->append(value);
}

void AssignOptional(std::optional<std::string>* field, std::string_view value) {
  if (field->has_value()) {
    Set(&**field, value);
  } else {
    field->emplace(value);
  }
}

// Length in bytes of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid
// (overlongs, surrogates and code points above U+10FFFF are rejected, as RFC 3629 requires).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  const std::size_t left = s.size() - i;
  const auto cont = [&](std::size_t k) { return (b(i + k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) {
    return (left >= 2 && cont(1)) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !cont(1) || !cont(2)) {
      return 0;
    }
    if (c == 0xE0 && b(i + 1) < 0xA0) {
      return 0;  // overlong
    }
    if (c == 0xED && b(i + 1) >= 0xA0) {
      return 0;  // surrogate
    }
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !cont(1) || !cont(2) || !cont(3)) {
      return 0;
    }
    if (c == 0xF0 && b(i + 1) < 0x90) {
      return 0;  // overlong
    }
    if (c == 0xF4 && b(i + 1) >= 0x90) {
      return 0;  // > U+10FFFF
    }
    return 4;
  }
  return 0;
}

// Index of the first byte at or after `i` that needs escaping or UTF-8 checking (< 0x20, '"',
// '\\' or >= 0x80), or s.size(). Plain ASCII is the bulk of the exported bytes, so it is skipped
// 16 bytes at a time where SSE2 is available (every x86-64): a signed compare with 0x20 catches
// both control characters and non-ASCII bytes.
std::size_t NextSpecialByte(std::string_view s, std::size_t i) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  for (; i + 16 <= s.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const __m128i hit =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                     _mm_cmplt_epi8(v, space));
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    if (mask != 0) {
      return i + static_cast<std::size_t>(std::countr_zero(mask));
    }
  }
#endif
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') {
      return i;
    }
  }
  return s.size();
}

// The two-character JSON escape of c, or empty if it has none (other control characters).
std::string_view ShortEscape(unsigned char c) {
  switch (c) {
    case '"':
      return "\\\"";
    case '\\':
      return "\\\\";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    default:
      return {};
  }
}

// Appends `s` as the body of a JSON string (no quotes); invalid UTF-8 becomes U+FFFD so the
// output is always valid JSON. Runs over every exported byte, so it writes straight into the
// grown string instead of paying for an append() per escape.
void AppendJsonEscaped(std::string_view s, std::string* out) {
  constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  std::size_t w = out->size();                               // write position
  out->resize(w + s.size() + s.size() / 8 + 16);  // typical escaping; grown below if needed
  const auto put = [&](const char* bytes, std::size_t n) {
    if (n == 0) {
      return;  // also keeps memcpy away from the null data() of an empty view
    }
    if (w + n > out->size()) {
      out->resize(std::max(2 * out->size(), w + n));
    }
    std::memcpy(out->data() + w, bytes, n);
    w += n;
  };
  std::size_t i = 0;
  while (true) {
    const std::size_t j = NextSpecialByte(s, i);
    put(s.data() + i, j - i);
    if (j == s.size()) {
      break;
    }
    const auto c = static_cast<unsigned char>(s[j]);
    i = j + 1;
    if (c >= 0x80) {
      const std::size_t len = Utf8SequenceLength(s, j);
      if (len != 0) {
        put(s.data() + j, len);
        i = j + len;
      } else {
        put(kReplacement.data(), kReplacement.size());
      }
    } else if (const std::string_view esc = ShortEscape(c); !esc.empty()) {
      put(esc.data(), esc.size());
    } else {
      const std::array<char, 6> u = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
      put(u.data(), u.size());
    }
  }
  out->resize(w);
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  AppendJsonEscaped(s, out);
  out->push_back('"');
}

// A strict RFC 8259 syntax checker, so that ToNdjsonLine can embed metadata verbatim only when
// it really is one JSON object. Hand-written rather than Boost.JSON because it runs once per
// exported line and must not allocate; it builds nothing, it only walks the text.
class JsonValidator {
 public:
  explicit JsonValidator(std::string_view text) : s_(text) {}

  bool IsSingleObject() {
    SkipWs();
    if (pos_ >= s_.size() || s_[pos_] != '{') {
      return false;
    }
    if (!Value(0)) {
      return false;
    }
    SkipWs();
    return pos_ == s_.size();
  }

 private:
  static constexpr int kMaxDepth = 64;

  void SkipWs() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    SkipWs();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) {
      return false;
    }
    pos_ += word.size();
    return true;
  }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  // The 4 hex digits at s_[at..at+3] as a number, or -1.
  int Hex4(std::size_t at) const {
    if (at + 4 > s_.size()) {
      return -1;
    }
    int v = 0;
    for (std::size_t i = at; i < at + 4; ++i) {
      const char c = s_[i];
      int d = -1;
      if (IsDigit(c)) {
        d = c - '0';
      }
      if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      }
      if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      }
      if (d < 0) {
        return -1;
      }
      v = v * 16 + d;
    }
    return v;
  }

  bool Value(int depth) {
    SkipWs();
    if (pos_ >= s_.size() || depth > kMaxDepth) {
      return false;
    }
    switch (s_[pos_]) {
      case '{': {
        ++pos_;
        if (Eat('}')) {
          return true;
        }
        do {
          SkipWs();
          if (!String() || !Eat(':') || !Value(depth + 1)) {
            return false;
          }
        } while (Eat(','));
        return Eat('}');
      }
      case '[': {
        ++pos_;
        if (Eat(']')) {
          return true;
        }
        do {
          if (!Value(depth + 1)) {
            return false;
          }
        } while (Eat(','));
        return Eat(']');
      }
      case '"':
        return String();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return Number();
    }
  }

  bool String() {
    if (pos_ >= s_.size() || s_[pos_] != '"') {
      return false;
    }
    ++pos_;
    while (pos_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        return false;
      }
      if (c == '\\') {
        if (++pos_ >= s_.size()) {
          return false;
        }
        const char e = s_[pos_];
        if (e == 'u') {
          // \uXXXX; UTF-16 surrogates must come as a high-low pair, as parsers such as
          // Boost.JSON insist.
          const int unit = Hex4(pos_ + 1);
          if (unit < 0) {
            return false;
          }
          pos_ += 5;
          if (unit >= 0xDC00 && unit <= 0xDFFF) {
            return false;
          }
          if (unit >= 0xD800 && unit <= 0xDBFF) {
            if (s_.substr(pos_, 2) != "\\u") {
              return false;
            }
            const int low = Hex4(pos_ + 2);
            if (low < 0xDC00 || low > 0xDFFF) {
              return false;
            }
            pos_ += 6;
          }
          continue;
        }
        if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos) {
          return false;
        }
        ++pos_;
        continue;
      }
      if (c >= 0x80) {
        const std::size_t len = Utf8SequenceLength(s_, pos_);
        if (len == 0) {
          return false;
        }
        pos_ += len;
        continue;
      }
      ++pos_;
    }
    return false;
  }

  bool Number() {
    if (pos_ < s_.size() && s_[pos_] == '-') {
      ++pos_;
    }
    if (pos_ >= s_.size() || !IsDigit(s_[pos_])) {
      return false;
    }
    if (s_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < s_.size() && IsDigit(s_[pos_])) {
        ++pos_;
      }
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (pos_ >= s_.size() || !IsDigit(s_[pos_])) {
        return false;
      }
      while (pos_ < s_.size() && IsDigit(s_[pos_])) {
        ++pos_;
      }
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) {
        ++pos_;
      }
      if (pos_ >= s_.size() || !IsDigit(s_[pos_])) {
        return false;
      }
      while (pos_ < s_.size() && IsDigit(s_[pos_])) {
        ++pos_;
      }
    }
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

bool IsJsonObject(std::string_view text) { return JsonValidator(text).IsSingleObject(); }

std::string_view EventTypeWireName(EventType type) {
  switch (type) {
    case EventType::kStart:
      return "start";
    case EventType::kStream:
      return "stream";
    case EventType::kEnd:
      return "end";
    case EventType::kError:
      return "error";
  }
  return "stream";
}

std::string_view SeverityWireName(ErrorSeverity severity) {
  switch (severity) {
    case ErrorSeverity::kLow:
      return "low";
    case ErrorSeverity::kMedium:
      return "medium";
    case ErrorSeverity::kHigh:
      return "high";
    case ErrorSeverity::kCritical:
      return "critical";
  }
  return "medium";
}

// The code blocks of every language split into lines once, so file excerpts and diffs can walk
// them line by line without searching for newlines and slots on every use.
struct BlockLine {
  std::string_view text;  // without the newline
  bool has_slot;
};
using SplitBlock = std::vector<BlockLine>;

const std::vector<SplitBlock>& SplitCodeBlocks(Lang lang) {
  // Leaked on purpose: immutable, built once, and safe to use during static destruction.
  static const auto* const all_blocks = [] {
    // NOLINTNEXTLINE(cppcoreguidelines-owning-memory)
    auto* split = new std::vector<std::vector<SplitBlock>>();
    for (const LangPack& pack : kLangPacks) {
      std::vector<SplitBlock>& blocks = split->emplace_back();
      for (std::string_view block : pack.code_blocks) {
        SplitBlock& lines = blocks.emplace_back();
        while (!block.empty()) {
          const std::size_t nl = block.find('\n');
          const std::string_view text = block.substr(0, nl);
          lines.push_back({text, text.find("\xC2\xA7") != std::string_view::npos});
          block.remove_prefix(nl == std::string_view::npos ? block.size() : nl + 1);
        }
      }
    }
    return split;
  }();
  return (*all_blocks)[static_cast<std::size_t>(lang)];
}

// ---------------------------------------------------------------------------------------------
// Session state.
// ---------------------------------------------------------------------------------------------

enum class Phase : std::uint8_t { kStart, kStream, kError, kEnd, kDone };
enum class Ending : std::uint8_t { kSuccess, kFailed, kNeverEnd };
enum class Kind : std::uint8_t { kProse, kCode, kToolCall, kToolOutput };
enum class Tool : std::uint8_t { kShell, kRead, kEdit, kGrep, kWrite };
enum class ShellCat : std::uint8_t { kTest, kBuild, kGit, kMisc };

constexpr int kMaxErrors = 3;
constexpr std::size_t kMinChunk = 20;
constexpr std::size_t kMaxChunk = 1500;

struct SessionState {
  std::string id;
  std::string sandbox_id;
  std::uint8_t agent = 0;
  std::uint8_t mode = 0;  // Mode; kNoMode when the session has none
  std::uint8_t model = 0;
  Lang lang = Lang::kTypeScript;
  int repo = -1;                        // index into kRepos, -1 for sessions without a repository
  std::array<std::uint8_t, 3> focus{};  // the files this session mostly works on
  std::int64_t start_ts = 0;
  std::int64_t next_ts = 0;  // timestamp of the next event (of the next session once kDone)
  std::int32_t stream_total = 0;
  std::int32_t stream_done = 0;
  std::array<std::int32_t, kMaxErrors> error_after{};  // error i comes after this many chunks
  std::int8_t errors_total = 0;
  std::int8_t errors_done = 0;
  std::int8_t attempt = 0;  // consecutive errors at the same point
  Ending ending = Ending::kSuccess;
  Phase phase = Phase::kStart;
  Kind next_kind = Kind::kProse;
  Tool last_tool = Tool::kShell;
  ShellCat last_shell = ShellCat::kTest;
  std::string_view last_file = "src/main.ts";  // of the last file tool call
  std::string_view last_pattern = "main";      // of the last grep
  ErrorKind pending_error = kRateLimit;
  std::int64_t context_tokens = 0;  // what the model re-reads each turn
  std::int64_t input_tokens = 0;    // summed over finished turns
  std::int64_t output_tokens = 0;
  std::int64_t lines_generated = 0;
  std::int32_t tool_calls = 0;
};

struct HeapEntry {
  std::int64_t ts;
  int slot;
};
// Strict "a comes before b": earlier timestamp, ties by slot, so the order is fully determined.
bool Before(const HeapEntry& a, const HeapEntry& b) {
  return a.ts < b.ts || (a.ts == b.ts && a.slot < b.slot);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Generator::Impl
// ---------------------------------------------------------------------------------------------

class Generator::Impl {
 public:
  explicit Impl(WorkloadOptions options);

  bool Next(Event* out);
  const WorkloadStats& stats() const { return stats_; }
  const WorkloadOptions& options() const { return options_; }

 private:
  void BeginSession(int slot, std::int64_t start_ts);
  void Schedule(SessionState* s, Kind just_emitted, bool after_start, bool after_error);
  void SiftDown();

  void EmitStart(SessionState* s, Event* out);
  void EmitStream(SessionState* s, Event* out);
  void EmitError(SessionState* s, Event* out);
  void EmitEnd(SessionState* s, Event* out);

  // Text builders; they append to *out and use session `s_` for slots.
  void Expand(std::string_view tmpl, std::string* out);
  void FillSlot(char slot, std::string* out);
  void BuildPrompt(std::size_t target, std::string* out);
  void BuildProse(std::size_t target, std::string* out);
  void BuildCode(std::size_t target, std::string* out);
  void BuildDiff(std::size_t target, std::string* out);
  void BuildToolCall(std::string* out);
  void BuildToolOutput(std::size_t target, std::string* out);
  void BuildTestRun(std::size_t target, std::string* out);
  void BuildErrorMessage(ErrorKind kind, std::string* message, std::string* stack);
  void AppendFileExcerpt(std::size_t target, std::string* out);
  // Appends one line of a code block, with its slots filled, and a newline.
  void AppendLine(const BlockLine& line, std::string* out) {
    if (line.has_slot) {
      Expand(line.text, out);
    } else {
      out->append(line.text);
    }
    out->push_back('\n');
  }
  void AppendShellCommand(ShellCat cat, std::string* out);

  // Engaging and resetting the optional text fields of the caller's Event would free and regrow
  // their buffers around every start and end event; parking them here keeps the capacity.
  static std::string& Engage(std::optional<std::string>* field, std::string* spare) {
    if (!field->has_value()) {
      field->emplace(std::move(*spare));
    }
    (*field)->clear();
    return **field;
  }
  static void Park(std::optional<std::string>* field, std::string* spare) {
    if (!field->has_value()) {
      return;
    }
    *spare = std::move(**field);
    field->reset();
  }

  const LangPack& pack() const { return kLangPacks[static_cast<int>(s_->lang)]; }
  // Mostly from `ascii`, now and then from `unicode`.
  std::string_view PickProse(Pool ascii, Pool unicode) {
    return rng_.Pick(rng_.Chance(0.03) ? unicode : ascii);
  }
  std::string_view PickFile() {
    if (rng_.Chance(0.7)) {
      return pack().files[s_->focus[rng_.Below(3)] % pack().files.size()];
    }
    return rng_.Pick(pack().files);
  }

  WorkloadOptions options_;
  WorkloadStats stats_;
  Rng rng_;
  double error_only_fraction_ = 0;  // P(errors | session does not fail)
  std::vector<SessionState> slots_;
  std::vector<HeapEntry> heap_;
  SessionState* s_ = nullptr;  // session whose event is being built
  std::string scratch_;        // reused buffers for text built in pieces
  std::string scratch2_;
  // Buffers of the caller's optional fields while they are disengaged (see Engage / Park).
  std::string spare_prompt_;
  std::string spare_stream_;
  std::string spare_repo_;
  std::string spare_metadata_;
};

namespace {

WorkloadOptions Sanitize(WorkloadOptions options) {
  const auto clamp01 = [](double v) { return std::isnan(v) ? 0.0 : std::clamp(v, 0.0, 1.0); };
  options.total_events = std::max<std::int64_t>(options.total_events, 0);
  options.concurrent_sessions = std::max(options.concurrent_sessions, 1);
  options.failed_fraction = clamp01(options.failed_fraction);
  options.error_session_fraction =
      std::max(clamp01(options.error_session_fraction), options.failed_fraction);
  options.never_end_fraction =
      std::min(clamp01(options.never_end_fraction), 1.0 - options.failed_fraction);
  return options;
}

// Failed sessions always have errors; the rest of the error budget is spread over the others so
// that the overall share of sessions with errors is error_session_fraction.
double ErrorOnlyFraction(const WorkloadOptions& options) {
  if (options.failed_fraction >= 1.0) {
    return 0.0;
  }
  return (options.error_session_fraction - options.failed_fraction) /
         (1.0 - options.failed_fraction);
}

}  // namespace

Generator::Impl::Impl(WorkloadOptions options)
    : options_(Sanitize(options)),
      rng_(options.seed),
      error_only_fraction_(ErrorOnlyFraction(options_)) {
  const int n = options_.concurrent_sessions;
  slots_.resize(static_cast<std::size_t>(n));
  heap_.reserve(static_cast<std::size_t>(n));
  scratch_.reserve(2048);
  scratch2_.reserve(2048);
  for (int i = 0; i < n; ++i) {
    // Stagger the first sessions over two minutes instead of starting them all at once.
    BeginSession(i, options_.start_time_ms + (i == 0 ? 0 : rng_.Between(0, 120'000)));
    heap_.push_back({slots_[static_cast<std::size_t>(i)].next_ts, i});
  }
  std::make_heap(heap_.begin(), heap_.end(),
                 [](const HeapEntry& a, const HeapEntry& b) { return Before(b, a); });
}

void Generator::Impl::BeginSession(int slot, std::int64_t start_ts) {
  SessionState& s = slots_[static_cast<std::size_t>(slot)];
  // UUID v4 from 128 random bits with the version and variant bits forced.
  const std::uint64_t hi = (rng_.Next() & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  const std::uint64_t lo = (rng_.Next() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  s.id.clear();
  AppendHex(hi >> 32, 8, &s.id);
  s.id.push_back('-');
  AppendHex(hi >> 16, 4, &s.id);
  s.id.push_back('-');
  AppendHex(hi, 4, &s.id);
  s.id.push_back('-');
  AppendHex(lo >> 48, 4, &s.id);
  s.id.push_back('-');
  AppendHex(lo, 12, &s.id);
  s.sandbox_id.assign("sbx-");
  AppendHex(rng_.Next(), 8, &s.sandbox_id);

  s.agent = static_cast<std::uint8_t>(rng_.Weighted(kAgentWeights));
  s.model = static_cast<std::uint8_t>(rng_.Weighted(kModelWeights[s.agent]));
  s.mode = rng_.Chance(0.02) ? std::uint8_t{kNoMode}
                             : static_cast<std::uint8_t>(rng_.Weighted(kModeWeights));
  s.repo = rng_.Weighted(kRepoWeights);
  s.lang = kRepos[s.repo].lang;
  if (rng_.Chance(0.04)) {
    s.repo = -1;  // a scratch session outside any repository
  }
  for (std::uint8_t& f : s.focus) {
    f = static_cast<std::uint8_t>(rng_.Below(64));
  }

  // Stream chunk count: lognormal, mean ~42 over the mode mix, p99 ~300.
  const double median = 25.5 * kModeLengthFactor[s.mode];
  s.stream_total = static_cast<std::int32_t>(
      std::clamp<std::int64_t>(std::llround(rng_.LogNormal(median, 1.0)), 1, 5000));
  s.stream_done = 0;

  const double u = rng_.Unit();
  if (u < options_.failed_fraction) {
    s.ending = Ending::kFailed;
  } else if (u < options_.failed_fraction + options_.never_end_fraction) {
    s.ending = Ending::kNeverEnd;
  } else {
    s.ending = Ending::kSuccess;
  }
  s.errors_total = 0;
  if (s.ending == Ending::kFailed || rng_.Chance(error_only_fraction_)) {
    constexpr auto kErrorCountWeights = std::to_array<int>({60, 28, 12});
    s.errors_total = static_cast<std::int8_t>(1 + rng_.Weighted(kErrorCountWeights));
    for (int i = 0; i < s.errors_total; ++i) {
      s.error_after[i] = static_cast<std::int32_t>(rng_.Below(
          static_cast<std::uint32_t>(s.stream_total + (s.ending == Ending::kNeverEnd ? 1 : 0))));
    }
    // A failed session dies of its last error, after its last chunk.
    if (s.ending == Ending::kFailed) {
      s.error_after[s.errors_total - 1] = s.stream_total;
    }
    std::sort(s.error_after.begin(), s.error_after.begin() + s.errors_total);
  }
  s.errors_done = 0;
  s.attempt = 0;
  s.phase = Phase::kStart;
  s.next_kind = rng_.Chance(0.7) ? Kind::kProse : Kind::kToolCall;
  s.start_ts = start_ts;
  s.next_ts = start_ts;
  s.context_tokens = 0;
  s.input_tokens = 0;
  s.output_tokens = 0;
  s.lines_generated = 0;
  s.tool_calls = 0;
}

// Picks the session's next event and its timestamp after the event just emitted.
void Generator::Impl::Schedule(SessionState* s, Kind just_emitted, bool after_start,
                               bool after_error) {
  Phase next;
  if (s->errors_done < s->errors_total && s->error_after[s->errors_done] == s->stream_done) {
    next = Phase::kError;
  } else if (s->stream_done < s->stream_total) {
    next = Phase::kStream;
  } else if (s->ending == Ending::kNeverEnd) {
    next = Phase::kDone;
  } else {
    next = Phase::kEnd;
  }

  std::int64_t gap = 0;
  switch (next) {
    case Phase::kError: {
      const bool fatal = s->ending == Ending::kFailed && s->errors_done == s->errors_total - 1;
      s->pending_error = static_cast<ErrorKind>(
          rng_.Weighted(fatal ? kFatalErrorWeights : kRecoverableErrorWeights));
      switch (s->pending_error) {
        case kTimeout:
          gap = rng_.Between(30'000, 600'000);
          break;
        case kApiConnection:
          gap = rng_.Between(5'000, 30'000);
          break;
        case kSandbox:
          gap = rng_.LogNormalClamped(8'000, 1.0, 500, 300'000);
          break;
        case kToolExecution:
          gap = rng_.LogNormalClamped(3'000, 1.0, 100, 120'000);
          break;
        default:
          gap = rng_.LogNormalClamped(600, 0.8, 50, 10'000);
          break;
      }
      break;
    }
    case Phase::kStream:
      if (after_start) {
        gap = rng_.LogNormalClamped(1'200, 0.6, 300, 5'000);  // time to first token
      } else if (after_error) {
        // Retry backoff: rate limits say how long to wait, others back off a few seconds.
        gap = (s->pending_error == kRateLimit || s->pending_error == kOverloaded)
                  ? rng_.LogNormalClamped(8'000, 0.9, 1'000, 120'000)
                  : rng_.LogNormalClamped(2'500, 0.8, 300, 60'000);
      } else if (just_emitted == Kind::kToolCall && s->next_kind == Kind::kToolOutput) {
        // Tool execution: shell commands (tests, builds) take seconds, file tools milliseconds.
        gap = s->last_tool == Tool::kShell ? rng_.LogNormalClamped(2'500, 1.2, 40, 600'000)
                                           : rng_.LogNormalClamped(40, 0.8, 3, 2'000);
      } else if (just_emitted == Kind::kToolOutput) {
        gap = rng_.LogNormalClamped(1'800, 0.7, 200, 60'000);  // model reads the result
      } else {
        gap = rng_.LogNormalClamped(180, 0.9, 10, 20'000);  // streaming tokens
      }
      // Now and then the agent waits for a human (approval prompts, questions).
      if (!after_start && rng_.Chance(0.012)) {
        gap += rng_.LogNormalClamped(30'000, 1.0, 3'000, 1'800'000);
      }
      break;
    case Phase::kEnd:
      gap = after_error ? rng_.LogNormalClamped(300, 0.8, 20, 5'000)
                        : rng_.LogNormalClamped(400, 0.8, 20, 10'000);
      break;
    case Phase::kDone:
    case Phase::kStart:
      gap = 0;
      break;
  }
  s->phase = next;
  s->next_ts += gap;
}

bool Generator::Impl::Next(Event* out) {
  if (stats_.events >= options_.total_events) {
    return false;
  }
  const int slot = heap_.front().slot;
  SessionState* s = &slots_[static_cast<std::size_t>(slot)];
  s_ = s;

  out->id = 0;
  out->created_at = 0;
  Set(&out->session_id, s->id);
  Set(&out->agent_type, kAgents[s->agent]);
  if (s->mode == kNoMode) {
    out->mode.reset();
  } else {
    AssignOptional(&out->mode, kModes[s->mode]);
  }
  out->timestamp = s->next_ts;

  switch (s->phase) {
    case Phase::kStart:
      EmitStart(s, out);
      break;
    case Phase::kStream:
      EmitStream(s, out);
      break;
    case Phase::kError:
      EmitError(s, out);
      break;
    case Phase::kEnd:
    case Phase::kDone:  // not reachable: kDone sessions are replaced right away
      EmitEnd(s, out);
      break;
  }

  if (s->phase == Phase::kDone) {
    // The slot's user starts another session after some think time; abandoned sessions
    // (no end event) are followed by a longer pause.
    const std::int64_t pause = s->ending == Ending::kNeverEnd
                                   ? rng_.LogNormalClamped(120'000, 1.0, 5'000, 3'600'000)
                                   : rng_.LogNormalClamped(15'000, 1.2, 500, 3'600'000);
    BeginSession(slot, s->next_ts + pause);
  }
  heap_.front().ts = s->next_ts;
  SiftDown();
  ++stats_.events;
  return true;
}

void Generator::Impl::SiftDown() {
  const std::size_t n = heap_.size();
  std::size_t i = 0;
  const HeapEntry moving = heap_[0];
  while (true) {
    std::size_t child = 2 * i + 1;
    if (child >= n) {
      break;
    }
    if (child + 1 < n && Before(heap_[child + 1], heap_[child])) {
      ++child;
    }
    if (!Before(heap_[child], moving)) {
      break;
    }
    heap_[i] = heap_[child];
    i = child;
  }
  heap_[i] = moving;
}

void Generator::Impl::EmitStart(SessionState* s, Event* out) {
  out->event_type = EventType::kStart;
  // Prompts: mostly a sentence or two, sometimes a pasted log or file (heavy tail).
  const auto target = static_cast<std::size_t>(rng_.LogNormalClamped(150, 1.1, 20, 12'000));
  BuildPrompt(target, &Engage(&out->prompt, &spare_prompt_));
  Park(&out->stream_data, &spare_stream_);
  AssignOptional(&out->sandbox_id, s->sandbox_id);
  if (s->repo >= 0) {
    Engage(&out->repo_url, &spare_repo_).append(kRepos[s->repo].url);
  } else {
    Park(&out->repo_url, &spare_repo_);
  }
  std::string& m = Engage(&out->metadata, &spare_metadata_);
  Set(&m, R"({"priority":")");
  m.append(kPriorities[rng_.Weighted(kPriorityWeights)]);
  m.append(R"(","userId":"user-)");
  // A few heavy users and a long tail of occasional ones.
  const double u = rng_.Unit();
  AppendInt(1 + static_cast<std::int64_t>(600.0 * u * u * u), &m);
  m.append(R"(","gen_ai.system":")");
  m.append(kModels[s->model].system);
  m.append(R"(","gen_ai.request.model":")");
  m.append(kModels[s->model].name);
  if (s->repo >= 0) {
    m.append(R"(","branch":")");
    m.append(rng_.Pick(kBranches));
  }
  m.append("\"}");
  out->error.reset();

  const auto prompt_bytes = static_cast<std::int64_t>(out->prompt->size());
  s->context_tokens = rng_.Between(3'000, 12'000) + prompt_bytes * 10 / 37;  // system prompt + ask
  ++stats_.start_events;
  ++stats_.sessions;
  stats_.bytes_text += prompt_bytes;
  Schedule(s, Kind::kProse, /*after_start=*/true, /*after_error=*/false);
}

void Generator::Impl::EmitStream(SessionState* s, Event* out) {
  out->event_type = EventType::kStream;
  Park(&out->prompt, &spare_prompt_);
  out->sandbox_id.reset();
  Park(&out->repo_url, &spare_repo_);
  out->error.reset();
  std::string& text = Engage(&out->stream_data, &spare_stream_);

  const Kind kind = s->next_kind;
  std::string_view type_name = "text";
  switch (kind) {
    case Kind::kProse: {
      // About one prose chunk in five is a short status line ("Let me run the tests again.").
      const std::size_t target =
          rng_.Chance(0.22) ? 0
                            : static_cast<std::size_t>(rng_.LogNormalClamped(190, 1.35, 20, 1'450));
      BuildProse(target, &text);
      break;
    }
    case Kind::kCode: {
      type_name = "code";
      const auto target = static_cast<std::size_t>(rng_.LogNormalClamped(850, 0.8, 60, 1'450));
      if (s->mode == kCode && rng_.Chance(0.3)) {
        BuildDiff(target, &text);
      } else {
        BuildCode(target, &text);
      }
      break;
    }
    case Kind::kToolCall:
      type_name = "tool_use";
      BuildToolCall(&text);
      ++s->tool_calls;
      break;
    case Kind::kToolOutput: {
      type_name = "tool_result";
      const auto target = static_cast<std::size_t>(rng_.LogNormalClamped(1'300, 1.0, 20, 1'500));
      BuildToolOutput(target, &text);
      break;
    }
  }
  TruncateUtf8(&text, kMaxChunk);
  // Pad the rare too-short chunk (counted in characters, not bytes).
  while (text.size() < 4 * kMinChunk && CountCodePoints(text) < kMinChunk) {
    if (!text.empty()) {
      text.push_back('\n');
    }
    text.append(rng_.Pick(kShortProse));
  }
  TruncateUtf8(&text, kMaxChunk);

  std::string& m = Engage(&out->metadata, &spare_metadata_);
  Set(&m, "{\"chunk\":");
  AppendInt(s->stream_done, &m);
  m.append(R"(,"type":")");
  m.append(type_name);
  m.append("\"}");

  ++s->stream_done;
  // Token accounting for the end event (~3.7 bytes per token): tool results are input the model
  // reads, everything else is its output. Each tool call ends a model turn, and every turn
  // re-reads the whole context, which agents compact when it nears the context window.
  const std::int64_t tokens = static_cast<std::int64_t>(text.size()) * 10 / 37;
  if (kind != Kind::kToolOutput) {
    s->output_tokens += tokens;
  }
  s->context_tokens += tokens;
  if (kind == Kind::kToolCall) {
    s->input_tokens += s->context_tokens;
    if (s->context_tokens > 160'000) {
      s->context_tokens /= 4;
    }
  }
  ++stats_.stream_events;
  stats_.bytes_text += static_cast<std::int64_t>(text.size());

  // What comes next: a small Markov chain over chunk kinds, tuned per mode (ask/plan talk more,
  // code sessions run edit/test loops).
  const bool talky = s->mode == kAsk || s->mode == kPlan;
  switch (kind) {
    case Kind::kProse: {
      constexpr auto kFromProse = std::to_array<int>({25, 25, 50, 0});
      constexpr auto kFromProseTalky = std::to_array<int>({55, 15, 30, 0});
      s->next_kind = static_cast<Kind>(rng_.Weighted(talky ? kFromProseTalky : kFromProse));
      break;
    }
    case Kind::kCode: {
      constexpr auto kFromCode = std::to_array<int>({35, 30, 35, 0});
      s->next_kind = static_cast<Kind>(rng_.Weighted(kFromCode));
      break;
    }
    case Kind::kToolCall: {
      constexpr auto kFromToolCall = std::to_array<int>({6, 0, 2, 92});
      s->next_kind = static_cast<Kind>(rng_.Weighted(kFromToolCall));
      break;
    }
    case Kind::kToolOutput: {
      constexpr auto kFromToolOutput = std::to_array<int>({50, 15, 35, 0});
      s->next_kind = static_cast<Kind>(rng_.Weighted(kFromToolOutput));
      break;
    }
  }
  s->attempt = 0;
  Schedule(s, kind, /*after_start=*/false, /*after_error=*/false);
}

void Generator::Impl::EmitError(SessionState* s, Event* out) {
  out->event_type = EventType::kError;
  Park(&out->prompt, &spare_prompt_);
  out->sandbox_id.reset();
  Park(&out->repo_url, &spare_repo_);
  const ErrorKind kind = s->pending_error;
  const ErrorKindInfo& info = kErrorKinds[kind];
  if (!out->error.has_value()) {
    out->error.emplace();
  }
  ErrorDetails& e = *out->error;
  Set(&e.error_type, info.type);
  e.severity = info.severity;
  e.context.reset();
  e.message.clear();
  scratch_.clear();
  BuildErrorMessage(kind, &e.message, &scratch_);
  if (scratch_.empty()) {
    e.stack.reset();
  } else {
    AssignOptional(&e.stack, scratch_);
  }
  Engage(&out->stream_data, &spare_stream_).append(e.message);

  ++s->attempt;
  const bool fatal = s->ending == Ending::kFailed && s->errors_done == s->errors_total - 1;
  std::string& m = Engage(&out->metadata, &spare_metadata_);
  Set(&m, "{\"retryable\":");
  m.append(info.retryable && !fatal ? "true" : "false");
  m.append(",\"attempt\":");
  AppendInt(s->attempt, &m);
  m.append(",\"chunk\":");
  AppendInt(s->stream_done, &m);
  m.push_back('}');

  ++s->errors_done;
  ++stats_.error_events;
  stats_.bytes_text += static_cast<std::int64_t>(e.message.size());
  Schedule(s, Kind::kProse, /*after_start=*/false, /*after_error=*/true);
}

void Generator::Impl::EmitEnd(SessionState* s, Event* out) {
  out->event_type = EventType::kEnd;
  Park(&out->prompt, &spare_prompt_);
  Park(&out->stream_data, &spare_stream_);
  out->sandbox_id.reset();
  Park(&out->repo_url, &spare_repo_);
  out->error.reset();
  std::string& m = Engage(&out->metadata, &spare_metadata_);
  Set(&m, R"({"status":")");
  m.append(s->ending == Ending::kFailed ? "failed" : "success");
  m.append(R"(","duration":)");
  AppendInt(s->next_ts - s->start_ts, &m);
  m.append(",\"gen_ai.usage.input_tokens\":");
  AppendInt(s->input_tokens + s->context_tokens, &m);  // the final turn reads the context too
  m.append(",\"gen_ai.usage.output_tokens\":");
  AppendInt(s->output_tokens, &m);
  m.append(",\"linesGenerated\":");
  AppendInt(s->lines_generated, &m);
  m.append(",\"toolCalls\":");
  AppendInt(s->tool_calls, &m);
  m.push_back('}');

  ++stats_.end_events;
  s->phase = Phase::kDone;
}

// ---------------------------------------------------------------------------------------------
// Text.
// ---------------------------------------------------------------------------------------------

void Generator::Impl::Expand(std::string_view tmpl, std::string* out) {
  constexpr std::string_view kMarker = "\xC2\xA7";  // '§'
  while (true) {
    const std::size_t p = tmpl.find(kMarker);
    if (p == std::string_view::npos || p + 2 >= tmpl.size()) {
      out->append(tmpl);
      return;
    }
    out->append(tmpl.substr(0, p));
    FillSlot(tmpl[p + 2], out);
    tmpl.remove_prefix(p + 3);
  }
}

void Generator::Impl::FillSlot(char slot, std::string* out) {
  const LangPack& p = pack();
  switch (slot) {
    case 'F':
      out->append(PickFile());
      break;
    case 'N':
      out->append(rng_.Pick(p.funcs));
      break;
    case 'C':
      out->append(rng_.Pick(p.types));
      break;
    case 'T':
      out->append(rng_.Pick(p.tests));
      break;
    case 'E':
      Expand(rng_.Pick(p.errors), out);
      break;
    case 'K':
      out->append(rng_.Pick(p.test_cmds));
      break;
    case 'B':
      out->append(rng_.Pick(p.build_cmds));
      break;
    case 'L':
      out->append(rng_.Pick(p.libs));
      break;
    case 'D':
      AppendInt(rng_.SmallSkewed(200), out);
      break;
    case 'M':
      AppendInt(rng_.SmallSkewed(2'000), out);
      break;
    case 'S':
      AppendInt(rng_.Between(1, 59), out);
      break;
    case 'P': {
      constexpr auto kPorts =
          std::to_array<std::int64_t>({5432, 6379, 3000, 8080, 5672, 9200, 27017});
      AppendInt(kPorts[rng_.Below(std::size(kPorts))], out);
      break;
    }
    case 'H':
      AppendHex(rng_.Next(), 7, out);
      break;
    case 'U':
      out->append(rng_.Pick(kAreas));
      break;
    case 'R':
      out->append(rng_.Pick(kBranches));
      break;
    default:
      break;
  }
}

void Generator::Impl::BuildPrompt(std::size_t target, std::string* out) {
  Pool templates = kCodePrompts;
  switch (s_->mode) {
    case kAsk:
      templates = kAskPrompts;
      break;
    case kPlan:
      templates = kPlanPrompts;
      break;
    case kReview:
      templates = kReviewPrompts;
      break;
    default:
      break;
  }
  if (rng_.Chance(0.015)) {
    templates = kForeignPrompts;
  }
  const std::string_view tmpl = rng_.Pick(templates);
  Expand(tmpl, out);
  for (int extras = 0; out->size() < target && extras < 2; ++extras) {
    if (out->size() + 40 > target && rng_.Chance(0.5)) {
      break;
    }
    Expand(PickProse(kPromptExtras, kUnicodePromptExtras), out);
  }
  // Long prompts paste context: a log, a test run or code.
  while (out->size() + 60 < target) {
    switch (rng_.Below(4)) {
      case 0:
        out->append("\n\nHere's the output:\n```\n");
        BuildTestRun(std::min<std::size_t>(target - std::min(target, out->size()), 1'500), out);
        out->append("```");
        break;
      case 1: {
        out->append("\n\nRelevant code (");
        out->append(PickFile());
        out->append("):\n```");
        out->append(pack().fence);
        out->push_back('\n');
        // About half of what is still missing, so one prompt mixes code with other context.
        const std::size_t stop = out->size() + (target - std::min(target, out->size())) / 2;
        do {
          Expand(rng_.Pick(pack().code_blocks), out);
        } while (out->size() < stop);
        out->append("```");
        break;
      }
      case 2:
        out->append("\n\nStack trace:\n");
        Expand(rng_.Pick(pack().test_fail), out);
        break;
      default:
        out->append("\n\n");
        Expand(PickProse(kSentences, kUnicodeProse), out);
        Expand(PickProse(kPromptExtras, kUnicodePromptExtras), out);
        break;
    }
  }
}

void Generator::Impl::BuildProse(std::size_t target, std::string* out) {
  if (target == 0) {
    out->append(rng_.Pick(kShortProse));
    return;
  }
  Pool extra;
  if (s_->mode == kReview) {
    extra = kReviewProse;
  }
  if (s_->mode == kPlan) {
    extra = kPlanProse;
  }
  while (out->size() < target) {
    if (!extra.empty() && rng_.Chance(0.5)) {
      Expand(PickProse(extra, kUnicodeProse), out);
    } else {
      Expand(PickProse(kSentences, kUnicodeProse), out);
    }
  }
  if (!out->empty() && out->back() == ' ') {
    out->pop_back();
  }
}

void Generator::Impl::BuildCode(std::size_t target, std::string* out) {
  const bool fenced = rng_.Chance(0.7);
  if (fenced) {
    if (rng_.Chance(0.5)) {
      out->append("Here's the updated `");
      out->append(rng_.Pick(pack().funcs));
      out->append("`:\n\n");
    }
    out->append("```");
    out->append(pack().fence);
    out->push_back('\n');
  }
  const std::size_t before = out->size();
  do {
    Expand(rng_.Pick(pack().code_blocks), out);
  } while (out->size() < target);
  // Estimated (~38 bytes per line of code) rather than counted: it only feeds the end event's
  // linesGenerated figure and counting costs a pass over every code chunk.
  s_->lines_generated += static_cast<std::int64_t>((out->size() - before) / 38 + 1);
  if (fenced) {
    out->append("```\n");
  }
}

// A unified diff of a real-looking hunk: consecutive lines of a snippet, a few replaced.
void Generator::Impl::BuildDiff(std::size_t target, std::string* out) {
  const std::string_view file = PickFile();
  out->append("diff --git a/");
  out->append(file);
  out->append(" b/");
  out->append(file);
  out->append("\n--- a/");
  out->append(file);
  out->append("\n+++ b/");
  out->append(file);
  const std::int64_t first_line = rng_.LogNormalClamped(60, 1.0, 1, 2'000);
  out->append("\n@@ -");
  AppendInt(first_line, out);
  out->push_back(',');
  AppendInt(rng_.Between(6, 30), out);
  out->append(" +");
  AppendInt(first_line, out);
  out->push_back(',');
  AppendInt(rng_.Between(6, 34), out);
  out->append(" @@\n");
  const std::vector<SplitBlock>& blocks = SplitCodeBlocks(s_->lang);
  while (out->size() < target) {
    for (const BlockLine& line : blocks[rng_.Below(static_cast<std::uint32_t>(blocks.size()))]) {
      if (out->size() >= target) {
        break;
      }
      const std::uint32_t r = rng_.Below(10);
      if (r == 0) {  // a changed line
        out->push_back('-');
        AppendLine(line, out);
        out->push_back('+');
        out->append(rng_.Pick(pack().lines));
        out->push_back('\n');
        ++s_->lines_generated;
      } else if (r == 1) {  // an added line
        out->push_back('+');
        out->append(rng_.Pick(pack().lines));
        out->append("\n ");
        AppendLine(line, out);
        ++s_->lines_generated;
      } else {
        out->push_back(' ');
        AppendLine(line, out);
      }
    }
  }
}

void Generator::Impl::AppendShellCommand(ShellCat cat, std::string* out) {
  switch (cat) {
    case ShellCat::kTest:
      out->append(rng_.Pick(pack().test_cmds));
      break;
    case ShellCat::kBuild:
      out->append(rng_.Pick(pack().build_cmds));
      break;
    case ShellCat::kGit:
      Expand(rng_.Pick(kGitCmds), out);
      break;
    case ShellCat::kMisc:
      Expand(rng_.Pick(kMiscCmds), out);
      break;
  }
}

// Tool calls are JSON, so they are built whole and never truncated: the variable part (code
// being written or edited) is capped to keep the chunk under kMaxChunk.
void Generator::Impl::BuildToolCall(std::string* out) {
  // Sessions that only look (ask, plan, review) do not edit or write files.
  constexpr auto kCodeToolWeights = std::to_array<int>({40, 25, 18, 10, 7});
  constexpr auto kLookToolWeights = std::to_array<int>({35, 40, 0, 25, 0});
  const bool edits = s_->mode == kCode || s_->mode == kNoMode;
  const auto tool = static_cast<Tool>(rng_.Weighted(edits ? kCodeToolWeights : kLookToolWeights));
  s_->last_tool = tool;
  const std::string_view name = kToolNames[s_->agent][static_cast<int>(tool)];
  out->append(R"({"tool":")");
  out->append(name);
  out->append(R"(","input":{)");
  const bool claude = s_->agent == kClaude;
  const auto append_path = [&] {
    s_->last_file = PickFile();
    out->append(claude ? R"("file_path":"/workspace/)" : R"("path":")");
    out->append(s_->last_file);
    out->push_back('"');
  };
  switch (tool) {
    case Tool::kShell: {
      constexpr auto kShellWeights = std::to_array<int>({50, 25, 15, 10});
      s_->last_shell = static_cast<ShellCat>(rng_.Weighted(kShellWeights));
      scratch_.clear();
      AppendShellCommand(s_->last_shell, &scratch_);
      if (s_->agent == kCodex) {
        out->append(R"("command":["bash","-lc",)");
        AppendJsonString(scratch_, out);
        out->append(R"(],"workdir":"/workspace")");
      } else {
        out->append("\"command\":");
        AppendJsonString(scratch_, out);
        if (claude) {
          out->append(R"(,"description":")");
          out->append(s_->last_shell == ShellCat::kTest    ? "Run the test suite"
                      : s_->last_shell == ShellCat::kBuild ? "Build the project"
                      : s_->last_shell == ShellCat::kGit   ? "Check git state"
                                                           : "Inspect the environment");
          out->push_back('"');
        }
        if (rng_.Chance(0.2)) {
          out->append(",\"timeout\":120000");
        }
      }
      break;
    }
    case Tool::kRead:
      append_path();
      if (rng_.Chance(0.3)) {
        out->append(",\"offset\":");
        AppendInt(rng_.LogNormalClamped(80, 1.0, 1, 3'000), out);
        out->append(",\"limit\":200");
      }
      break;
    case Tool::kEdit: {
      append_path();
      // Replace one line by itself plus a few new ones, as edits usually do.
      const std::string_view old_line = rng_.Pick(pack().lines);
      out->append(",\"old_string\":");
      AppendJsonString(old_line, out);
      out->append(",\"new_string\":");
      scratch_.assign(old_line);
      const auto added = 1 + rng_.Below(8);
      for (std::uint32_t i = 0; i < added; ++i) {
        scratch_.push_back('\n');
        scratch_.append(rng_.Pick(pack().lines));
      }
      s_->lines_generated += added;
      AppendJsonString(scratch_, out);
      break;
    }
    case Tool::kGrep:
      s_->last_pattern = rng_.Pick(pack().funcs);
      out->append(R"("pattern":")");
      out->append(s_->last_pattern);
      out->append(R"(","path":")");
      out->append(rng_.Chance(0.7) ? "src/" : ".");
      out->push_back('"');
      break;
    case Tool::kWrite: {
      append_path();
      out->append(",\"content\":");
      // Escape into scratch2_, adding blocks while the whole call stays under the cap.
      const auto budget = static_cast<std::size_t>(rng_.LogNormalClamped(800, 0.5, 150, 1'400));
      scratch2_.clear();
      std::size_t bytes = 0;
      while (true) {
        scratch_.clear();
        Expand(rng_.Pick(pack().code_blocks), &scratch_);
        const std::size_t keep = scratch2_.size();
        AppendJsonEscaped(scratch_, &scratch2_);
        if (out->size() + scratch2_.size() + 8 > kMaxChunk) {
          scratch2_.resize(keep);
          break;
        }
        bytes += scratch_.size();
        if (out->size() + scratch2_.size() >= budget) {
          break;
        }
      }
      s_->lines_generated += static_cast<std::int64_t>(bytes / 38 + 1);
      out->push_back('"');
      out->append(scratch2_);
      out->push_back('"');
      break;
    }
  }
  out->append("}}");
}

// Numbered lines of a file, as read tools print them: consecutive lines of real snippets.
void Generator::Impl::AppendFileExcerpt(std::size_t target, std::string* out) {
  std::int64_t number = rng_.LogNormalClamped(20, 1.2, 1, 2'000);
  const std::string_view separator = s_->agent == kClaude ? "\xE2\x86\x92" : "\t";  // Claude: "→"
  const std::vector<SplitBlock>& blocks = SplitCodeBlocks(s_->lang);
  while (out->size() < target) {
    for (const BlockLine& line : blocks[rng_.Below(static_cast<std::uint32_t>(blocks.size()))]) {
      if (out->size() >= target) {
        break;
      }
      std::array<char, 24> digits;
      const std::size_t width = FormatInt(number++, &digits);
      if (width < 6) {
        out->append(6 - width, ' ');
      }
      out->append(digits.data(), width);
      out->append(separator);
      AppendLine(line, out);
    }
  }
}

void Generator::Impl::BuildTestRun(std::size_t target, std::string* out) {
  const LangPack& p = pack();
  const std::size_t start = out->size();
  Expand(rng_.Pick(p.test_header), out);
  const bool failing = rng_.Chance(0.45);
  bool failed_printed = false;
  while (out->size() - start + 120 < target) {
    if (failing && !failed_printed && rng_.Chance(0.35)) {
      Expand(rng_.Pick(p.test_fail), out);
      failed_printed = true;
    } else {
      Expand(rng_.Pick(p.test_pass), out);
    }
  }
  if (failing && !failed_printed) {
    Expand(rng_.Pick(p.test_fail), out);
  }
  Expand(rng_.Pick(failing ? p.test_failed_summary : p.test_ok_summary), out);
}

void Generator::Impl::BuildToolOutput(std::size_t target, std::string* out) {
  const LangPack& p = pack();
  switch (s_->last_tool) {
    case Tool::kShell:
      switch (s_->last_shell) {
        case ShellCat::kTest:
          BuildTestRun(target, out);
          break;
        case ShellCat::kBuild:
          do {
            Expand(rng_.Pick(p.build_diag), out);
          } while (out->size() + 100 < target);
          Expand(rng_.Pick(p.build_tail), out);
          break;
        case ShellCat::kGit:
          Expand(rng_.Pick(kGitOut), out);
          break;
        case ShellCat::kMisc:
          Expand(rng_.Pick(kMiscShellOut), out);
          break;
      }
      break;
    case Tool::kRead:
      AppendFileExcerpt(std::max<std::size_t>(target, 250), out);
      break;
    case Tool::kEdit:
      out->append("The file ");
      out->append(s_->last_file);
      if (rng_.Chance(0.5)) {
        out->append(" has been updated.\n");
        break;
      }
      out->append(
          " has been updated. Here's the result of running `cat -n` on a snippet of the "
          "edited file:\n");
      AppendFileExcerpt(std::min<std::size_t>(target, 700), out);
      break;
    case Tool::kGrep: {
      // Call sites of the pattern the agent searched for.
      constexpr auto kCallSites = std::to_array<std::string_view>(
          {"  const result = await §X(input);", "    return §X(req, res)", "  §X(ctx, options);",
           "    result = §X(payload)", "export { §X } from \"./impl\";",
           "// TODO: §X should not retry here"});
      const std::uint32_t hits = 1 + rng_.Below(12);
      for (std::uint32_t i = 0; i < hits && out->size() < target; ++i) {
        out->append(PickFile());
        out->push_back(':');
        AppendInt(rng_.SmallSkewed(600), out);
        out->push_back(':');
        const std::string_view site = rng_.Pick(kCallSites);
        const std::size_t x = site.find("\xC2\xA7X");
        out->append(site.substr(0, x));
        out->append(s_->last_pattern);
        out->append(site.substr(x + 3));
        out->push_back('\n');
      }
      break;
    }
    case Tool::kWrite:
      out->append("File created successfully at: ");
      out->append(s_->last_file);
      break;
  }
}

void Generator::Impl::BuildErrorMessage(ErrorKind kind, std::string* message, std::string* stack) {
  const std::string_view system = kModels[s_->model].system;
  const std::string_view model = kModels[s_->model].name;
  // Agents built on Node (all but Codex, which is Rust) report a JS stack for harness errors.
  const bool node_stack = s_->agent != kCodex;
  switch (kind) {
    case kRateLimit:
      if (system == "openai") {
        message->append("Rate limit reached for ");
        message->append(model);
        message->append(" in organization org-7Qx2 on tokens per min (TPM): Limit 800000, Used ");
        AppendInt(rng_.Between(780'000, 799'999), message);
        message->append(", Requested ");
        AppendInt(rng_.Between(4'000, 60'000), message);
        message->append(". Please try again in ");
        AppendInt(rng_.Between(1, 30), message);
        message->append("s.");
      } else if (system == "gcp.gemini") {
        message->append(
            "429 RESOURCE_EXHAUSTED: Quota exceeded for quota metric 'Generate Content "
            "API requests per minute' and limit 'GenerateContent request limit per "
            "minute for a region' of service 'generativelanguage.googleapis.com'");
      } else {
        message->append(
            "429 rate_limit_error: This request would exceed the rate limit for your "
            "organization of 400,000 input tokens per minute. Retry after ");
        AppendInt(rng_.Between(2, 60), message);
        message->append(" seconds.");
      }
      break;
    case kOverloaded:
      message->append(system == "anthropic" ? "529 overloaded_error: Overloaded"
                                            : "503 Service Unavailable: The model is overloaded. "
                                              "Please try again later.");
      break;
    case kToolExecution:
      message->append("Command failed with exit code ");
      message->append(rng_.Chance(0.8) ? "1" : "137");
      message->append(": ");
      message->append(rng_.Pick(pack().test_cmds));
      if (node_stack) {
        stack->append("Error: Command failed: ");
        stack->append(rng_.Pick(pack().test_cmds));
        stack->append(
            "\n    at ChildProcess.exithandler (node:child_process:422:12)\n    at "
            "ChildProcess.emit (node:events:519:28)\n    at maybeClose "
            "(node:internal/child_process:1105:16)\n    at ChildProcess._handle.onexit "
            "(node:internal/child_process:305:5)");
      }
      break;
    case kTimeout:
      if (rng_.Chance(0.6)) {
        message->append("Command timed out after 120000 ms: ");
        message->append(rng_.Pick(pack().test_cmds));
      } else {
        message->append("Request timed out after 600 s waiting for a response from ");
        message->append(model);
      }
      break;
    case kApiConnection:
      message->append(
          "Connection error: connect ECONNREFUSED 127.0.0.1:8787 (proxy unreachable "
          "after 3 retries)");
      if (node_stack) {
        stack->append(
            "APIConnectionError: Connection error.\n    at Client.makeRequest "
            "(file:///usr/lib/node_modules/agent/dist/client.js:412:15)\n    at "
            "process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n"
            "Caused by: Error: connect ECONNREFUSED 127.0.0.1:8787");
      }
      break;
    case kInvalidToolInput:
      message->append("Invalid input for tool ");
      message->append(kToolNames[s_->agent][2]);
      message->append(": old_string not found in ");
      message->append(PickFile());
      break;
    case kPermissionDenied:
      message->append(
          "Permission denied: `rm -rf node_modules dist` requires approval in this "
          "sandbox");
      break;
    case kContextLength: {
      const std::int64_t limit = system == "gcp.gemini" ? 1'048'576 : 200'000;
      message->append("prompt is too long: ");
      AppendInt(limit + rng_.Between(100, 40'000), message);
      message->append(" tokens > ");
      AppendInt(limit, message);
      message->append(" maximum");
      break;
    }
    case kSandbox:
      message->append("Sandbox ");
      message->append(s_->sandbox_id);
      message->append(" terminated unexpectedly: OOMKilled (exit code 137, memory limit 4Gi)");
      if (node_stack) {
        stack->append(
            "SandboxError: sandbox process exited\n    at Sandbox.onExit "
            "(file:///usr/lib/node_modules/agent/dist/sandbox.js:88:11)\n    at "
            "ChildProcess.emit (node:events:519:28)");
      }
      break;
    case kErrorKindCount:
      message->append("error");
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Public API.
// ---------------------------------------------------------------------------------------------

Generator::Generator(WorkloadOptions options) : impl_(std::make_unique<Impl>(options)) {}
Generator::~Generator() = default;
Generator::Generator(Generator&&) noexcept = default;
Generator& Generator::operator=(Generator&&) noexcept = default;

bool Generator::Next(Event* out) { return impl_->Next(out); }
const WorkloadStats& Generator::stats() const { return impl_->stats(); }
const WorkloadOptions& Generator::options() const { return impl_->options(); }

void AppendNdjsonLine(const Event& event, std::string* out) {
  const auto field = [out](std::string_view key, const std::optional<std::string>& value) {
    if (!value.has_value()) {
      return;
    }
    out->append(",\"");
    out->append(key);
    out->append("\":");
    AppendJsonString(*value, out);
  };
  out->append("{\"sessionId\":");
  AppendJsonString(event.session_id, out);
  out->append(R"(,"eventType":")");
  out->append(EventTypeWireName(event.event_type));
  out->append(R"(","agentType":)");
  AppendJsonString(event.agent_type, out);
  field("mode", event.mode);
  field("prompt", event.prompt);
  field("streamData", event.stream_data);
  field("sandboxId", event.sandbox_id);
  field("repoUrl", event.repo_url);
  if (event.metadata.has_value()) {
    out->append(",\"metadata\":");
    if (IsJsonObject(*event.metadata)) {
      out->append(*event.metadata);
    } else {
      AppendJsonString(*event.metadata, out);
    }
  }
  if (event.event_type == EventType::kError && event.error.has_value()) {
    const ErrorDetails& e = *event.error;
    out->append(R"(,"error":{"type":)");
    AppendJsonString(e.error_type.empty() ? std::string_view("error") : e.error_type, out);
    out->append(",\"message\":");
    AppendJsonString(e.message, out);
    out->append(R"(,"severity":")");
    out->append(SeverityWireName(e.severity));
    out->push_back('"');
    if (e.stack.has_value()) {
      out->append(",\"stack\":");
      AppendJsonString(*e.stack, out);
    }
    out->push_back('}');
  }
  out->append(",\"timestamp\":");
  AppendInt(event.timestamp, out);
  out->push_back('}');
}

std::string ToNdjsonLine(const Event& event) {
  std::string line;
  line.reserve(256 + (event.prompt ? event.prompt->size() : 0) +
               (event.stream_data ? event.stream_data->size() : 0));
  AppendNdjsonLine(event, &line);
  return line;
}

// Measured over 2M events with default options for several seeds (the fractions agree to within
// a few percent between seeds). Each term comes from one kind of fragment: fatal sandbox errors,
// overload errors, gdb output in C++ test runs, Python tracebacks, assertion failures, prose
// sentences, Node connection errors, prose again. Update the figures when the vocabulary changes;
// the unit test checks them.
std::vector<SearchTermFrequency> SearchTermFrequencies() {
  return {
      {"OOMKilled", 0.000065}, {"Overloaded", 0.00011},    {"SIGSEGV", 0.00089},
      {"Traceback", 0.0024},   {"AssertionError", 0.0077}, {"deadlock", 0.0227},
      {"ECONNREFUSED", 0.029}, {"idempotent", 0.0427},
  };
}

std::vector<std::string> SearchTerms() {
  std::vector<std::string> terms;
  for (const SearchTermFrequency& t : SearchTermFrequencies()) {
    terms.push_back(t.term);
  }
  return terms;
}

}  // namespace vibekit::workload
