// Subcommands register themselves: a new subcommand is one new file in src/cli/ with a static
// CommandRegistration, and nothing else changes.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "rerank/error.h"

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

// Repeated KEY=VALUE flags (--param, --first-stage-param) as a map; `flag` names them in errors.
inline std::map<std::string, std::string> key_values(const std::vector<std::string>& items,
                                                     const std::string& flag) {
  std::map<std::string, std::string> out;
  for (const auto& p : items) {
    const auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) throw Error(flag + " expects KEY=VALUE, got '" + p + "'");
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

}  // namespace rerank::cli
