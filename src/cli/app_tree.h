// Walking the CLI11 command tree, for the commands that describe the CLI itself (`vibekit
// completion`, `vibekit help-all`). Everything is read from the App objects at run time, so the
// completion scripts and docs/CLI.md follow every command added or changed.
// Hidden things (group "") are left out, as --help does.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace vibekit::cli {

// One command of the tree: its full name ("vibekit telemetry query") and the App.
struct CommandNode {
  std::string path;
  const CLI::App* app = nullptr;
};

// Named, visible subcommands of `app`, in registration order.
inline std::vector<const CLI::App*> VisibleSubcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) {
    return !sub->get_name().empty() && !sub->get_group().empty() && !sub->get_disabled();
  });
}

// The root and every visible command under it, depth first (parents before children).
inline void CollectCommands(const CLI::App& app, const std::string& path,
                            std::vector<CommandNode>* out) {
  out->push_back({path, &app});
  for (const CLI::App* sub : VisibleSubcommands(app)) {
    CollectCommands(*sub, path + " " + sub->get_name(), out);
  }
}

inline std::vector<CommandNode> CommandTree(const CLI::App& root) {
  std::vector<CommandNode> nodes;
  CollectCommands(root, root.get_name().empty() ? "vibekit" : root.get_name(), &nodes);
  return nodes;
}

// Visible options of `app` itself (flags, options, positionals).
inline std::vector<const CLI::Option*> VisibleOptions(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return !o->get_group().empty(); });
}

// Options usable on the command line of `app`: its own, plus those of the ancestors it falls
// through to (global options like --format after the subcommand).
inline std::vector<const CLI::Option*> UsableOptions(const CLI::App& app) {
  std::vector<const CLI::Option*> all = VisibleOptions(app);
  for (const CLI::App* a = &app; a->get_fallthrough() && a->get_parent() != nullptr;) {
    a = a->get_parent();
    for (const CLI::Option* o : VisibleOptions(*a)) {
      if (o->nonpositional()) all.push_back(o);
    }
  }
  return all;
}

inline bool TakesValue(const CLI::Option& o) { return o.get_expected_max() != 0; }

// "-q", "--quiet", ... for a named option (short names first, as --help shows them).
inline std::vector<std::string> OptionNames(const CLI::Option& o) {
  std::vector<std::string> names;
  for (const std::string& s : o.get_snames()) names.push_back("-" + s);
  for (const std::string& l : o.get_lnames()) names.push_back("--" + l);
  return names;
}

// The type name and validator descriptions: "TEXT:{table,json}" -> {"TEXT", "{table,json}"}.
inline std::vector<std::string> TypeParts(const CLI::Option& o) {
  std::vector<std::string> parts;
  std::string type = o.get_type_name();
  std::size_t start = 0;
  int depth = 0;
  for (std::size_t i = 0; i < type.size(); ++i) {
    if (type[i] == '{' || type[i] == '[' || type[i] == '(') ++depth;
    if (type[i] == '}' || type[i] == ']' || type[i] == ')') --depth;
    if (type[i] == ':' && depth == 0) {
      parts.push_back(type.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(type.substr(start));
  return parts;
}

// The fixed choices of an option checked with CLI::IsMember (its description is "{a,b,c}").
inline std::vector<std::string> Choices(const CLI::Option& o) {
  std::vector<std::string> choices;
  for (const std::string& part : TypeParts(o)) {
    if (part.size() < 2 || part.front() != '{' || part.back() != '}') continue;
    std::string item;
    for (char c : part.substr(1, part.size() - 2)) {
      if (c == ',') {
        if (!item.empty()) choices.push_back(item);
        item.clear();
      } else {
        item += c;
      }
    }
    if (!item.empty()) choices.push_back(item);
  }
  return choices;
}

}  // namespace vibekit::cli
