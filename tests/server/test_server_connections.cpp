// Many clients connecting at the same moment, as a load generator or a burst of users does: every
// one of them is answered. With cpp-httplib 0.11's listen backlog of 5, 64 simultaneous connections
// overflowed the accept queue: 11-34 of 64 failed with a reset and the rest waited for the kernel's
// 1 s SYN retry.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>
#include <vector>

#include "live_server.h"

namespace rerank::test {
namespace {

TEST(ServerConnections, SixtyFourClientsConnectingAtOnceAreAllAnswered) {
  const LiveServer server({});
  constexpr int kClients = 64;
  std::atomic<int> ready{0};
  std::vector<int> statuses(kClients, -1);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] {
      httplib::Client c = server.client();
      ++ready;
      while (ready.load() < kClients) std::this_thread::yield();  // connect together
      // A body the server rejects at once (422): the test is about connections, not the model.
      const auto res = c.Post("/v2/rerank", R"({"query": "q"})", "application/json");
      statuses[i] = res ? res->status : -static_cast<int>(res.error());
    });
  for (auto& t : clients) t.join();
  for (int i = 0; i < kClients; ++i)
    EXPECT_EQ(statuses[i], 422) << "client " << i << " (negative: transport error)";
}

}  // namespace
}  // namespace rerank::test
