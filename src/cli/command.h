// Subcommands register themselves: a new subcommand is one new file in src/cli/ with a static
// CommandRegistration, and nothing else changes.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace rerank::cli {

// Declares the subcommand's options on `app` and returns what runs it once parsing succeeded.
// The returned function gives the process exit code.
using CommandSetup = std::function<std::function<int()>(CLI::App& app)>;

struct CommandInfo {
  std::string name;
  std::string summary;
  CommandSetup setup;
};

std::vector<CommandInfo>& command_registry();

struct CommandRegistration {
  CommandRegistration(std::string name, std::string summary, CommandSetup setup) {
    command_registry().push_back({std::move(name), std::move(summary), std::move(setup)});
  }
};

}  // namespace rerank::cli
