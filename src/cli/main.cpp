// `rerank <subcommand>`: parse errors print one line and the usage, and exit 2; runtime errors
// print "rerank <subcommand>: error: ..." and exit 1.
#include <algorithm>
#include <csignal>
#include <iostream>

#include "cli/command.h"
#include "rerank/error.h"
#include "rerank/version.h"

namespace rerank::cli {

std::vector<CommandInfo>& command_registry() {
  static std::vector<CommandInfo> registry;
  return registry;
}

}  // namespace rerank::cli

int main(int argc, char** argv) {
  using namespace rerank::cli;
  // Beyond a file size limit (ulimit -f) the kernel's default is to kill the process; ignored, the
  // write fails with EFBIG instead and the command reports which file it could not write.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"rerank.cpp: index, retrieve, rerank and evaluate search results", "rerank"};
  app.set_version_flag("--version", std::string("rerank.cpp ") + RERANK_VERSION_STRING);
  app.require_subcommand(1, 1);
  app.fallthrough(false);

  auto& registry = command_registry();
  std::sort(registry.begin(), registry.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  for (auto& cmd : registry) {
    CLI::App* sub = app.add_subcommand(cmd.name, cmd.summary);
    runners.emplace_back(sub, cmd.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const CLI::App* where = &app;
    for (auto& [sub, run] : runners)
      if (sub->parsed()) where = sub;
    std::string name = where == &app ? "rerank" : "rerank " + where->get_name();
    std::cerr << name << ": error: " << e.what() << "\n";
    std::cerr << "usage: " << name << (where == &app ? " <subcommand> [options]" : " [options]") << "  (see "
              << name << " --help)\n";
    return 2;
  }

  for (auto& [sub, run] : runners) {
    if (!sub->parsed()) continue;
    try {
      return run();
    } catch (const std::exception& e) {
      std::cerr << "rerank " << sub->get_name() << ": error: " << e.what() << "\n";
      return 1;
    }
  }
  return 2;
}
