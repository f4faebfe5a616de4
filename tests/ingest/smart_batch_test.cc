// SmartBatchProcessor: batch size follows the measured latency, backpressure, order, flush.
#include "ingest/smart_batch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <thread>

namespace vibekit::ingest {
namespace {

std::vector<int> Items(int from, int n) {
  std::vector<int> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), from);
  return v;
}

TEST(SmartBatchProcessor, GrowsToTheMaximumWhileBatchesAreFast) {
  SmartBatchOptions o;
  o.min_batch_size = 50;
  o.max_batch_size = 800;
  o.target_latency_ms = 50;
  std::vector<std::size_t> sizes;
  SmartBatchProcessor<int> p(
      [&](std::span<const int> b) {
        sizes.push_back(b.size());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        return Status::Ok();
      },
      o);
  const std::vector<int> items = Items(0, 20000);
  ASSERT_TRUE(p.Submit(items).ok());
  p.Flush();
  const SmartBatchStats s = p.stats();
  EXPECT_EQ(s.items, 20000);
  EXPECT_EQ(s.batch_size, 800u);
  EXPECT_EQ(sizes.front(), 50u) << "starts at the minimum";
  EXPECT_EQ(*std::max_element(sizes.begin(), sizes.end()), 800u);
}

TEST(SmartBatchProcessor, ShrinksWhenBatchesTakeLongerThanTheTarget) {
  SmartBatchOptions o;
  o.min_batch_size = 10;
  o.max_batch_size = 5000;
  o.initial_batch_size = 2000;
  o.target_latency_ms = 20;
  SmartBatchProcessor<int> p(
      [](std::span<const int> b) {  // 50 µs per item: 2000 items take 100 ms
        std::this_thread::sleep_for(std::chrono::microseconds(50 * b.size()));
        return Status::Ok();
      },
      o);
  const std::vector<int> items = Items(0, 6000);
  ASSERT_TRUE(p.Submit(items).ok());
  p.Flush();
  const SmartBatchStats s = p.stats();
  EXPECT_EQ(s.items, 6000);
  EXPECT_LT(s.batch_size, 2000u);
  EXPECT_LE(s.batch_size, 400u) << "400 items = the 20 ms target";
  EXPECT_GE(s.batch_size, 10u);
}

TEST(SmartBatchProcessor, RefusesPastTheBackpressureThresholdAndKeepsOrder) {
  SmartBatchOptions o;
  o.min_batch_size = 10;
  o.max_batch_size = 100;
  o.backpressure_threshold = 100;
  std::atomic<bool> release{false};
  std::vector<int> seen;
  auto p = std::make_unique<SmartBatchProcessor<int>>(
      [&](std::span<const int> b) {
        while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        seen.insert(seen.end(), b.begin(), b.end());
        return b.front() == 10 ? Status::Internal("boom") : Status::Ok();
      },
      o);
  const std::vector<int> first = Items(0, 10);
  ASSERT_TRUE(p->Submit(first).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the first batch is taken
  const std::vector<int> fill = Items(10, 100);
  ASSERT_TRUE(p->Submit(fill).ok());
  const std::vector<int> one = {999};
  const Status busy = p->Submit(one);
  EXPECT_EQ(busy.code(), StatusCode::kBusy) << busy.ToString();
  EXPECT_EQ(p->stats().rejected, 1);
  release = true;
  p->Flush();
  EXPECT_EQ(seen, Items(0, 110)) << "submission order";
  EXPECT_EQ(p->stats().failed_batches, 1);
  ASSERT_TRUE(p->Submit(one).ok()) << "room again";
  p.reset();  // the destructor processes what is queued
  EXPECT_EQ(seen.back(), 999);

  SmartBatchOptions bad;
  bad.min_batch_size = 0;
  EXPECT_FALSE(SmartBatchProcessor<int>::Validate(bad).ok());
  bad = {};
  bad.backpressure_threshold = 10;
  EXPECT_FALSE(SmartBatchProcessor<int>::Validate(bad).ok());
  EXPECT_TRUE(SmartBatchProcessor<int>::Validate({}).ok());
}

}  // namespace
}  // namespace vibekit::ingest
