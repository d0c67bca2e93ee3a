// Many clients connecting at the same moment, as a load generator or a burst of users does: every
// one of them is answered. With cpp-httplib 0.11's listen backlog of 5, 64 simultaneous connections
// overflowed the accept queue: 11-21 of 64 failed with a reset and the rest waited for the kernel's
// 1 s SYN retry.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <thread>
#include <vector>

#include "rerank/server.h"
#include "tiny_models.h"

namespace rerank {
namespace {

TEST(ServerConnections, SixtyFourClientsConnectingAtOnceAreAllAnswered) {
  RerankerOptions o;
  o.model_path = test::tiny_model(test::Tiny::Bert);
  o.threads = 1;
  std::vector<ServedModel> models;
  models.push_back({"default", o.model_path, make_reranker("pointwise", o), nullptr});
  ServeOptions options;
  options.port = 0;
  RerankServer server(options, std::move(models));
  const int port = server.bind();
  std::thread serving([&server] { server.run(); });

  constexpr int kClients = 64;
  std::atomic<int> ready{0};
  std::vector<int> statuses(kClients, -1);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(60, 0);
      ++ready;
      while (ready.load() < kClients) std::this_thread::yield();  // connect together
      // A body the server rejects at once (422): the test is about connections, not the model.
      const auto res = c.Post("/v2/rerank", R"({"query": "q"})", "application/json");
      statuses[i] = res ? res->status : -static_cast<int>(res.error());
    });
  for (auto& t : clients) t.join();
  server.stop();
  serving.join();
  for (int i = 0; i < kClients; ++i)
    EXPECT_EQ(statuses[i], 422) << "client " << i << " (negative: transport error)";
}

}  // namespace
}  // namespace rerank
