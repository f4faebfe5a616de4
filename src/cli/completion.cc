// `vibekit completion bash|zsh`: a shell completion script generated from the command tree at
// run time (subcommands at every level, option names, the fixed choices of options and
// arguments), so it cannot drift from the commands. The shell logic is the same for both
// shells: walk the words typed so far to find the command, then offer the values of the option
// before the cursor, option names after "-", or the subcommands / argument choices.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/app_tree.h"
#include "cli/commands.h"

namespace vibekit::cli {
namespace {

// Only plain words go into the script (they are single-quoted there, so no quoting issues).
bool SafeWord(const std::string& w) {
  if (w.empty()) return false;
  for (char c : w) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '@' || c == '+';
    if (!ok) return false;
  }
  return true;
}

std::string Join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    if (!SafeWord(w)) continue;
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

// A shell function `name` answering, for a key, the words listed for it.
std::string CaseFunction(const std::string& name, const std::string& key_expr,
                         const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out = name + "() {\n  case \"" + key_expr + "\" in\n";
  for (const auto& [key, words] : entries) {
    if (words.empty()) continue;
    out += "    '" + key + "') echo '" + words + "' ;;\n";
  }
  out += "  esac\n}\n";
  return out;
}

// The data functions both shells share: _vibekit_subcommands PATH, _vibekit_options PATH,
// _vibekit_value_options PATH, _vibekit_choices PATH OPTION, _vibekit_args PATH
// (argument choices, or __files__ for a file argument), _vibekit_takes_value PATH OPTION.
std::string DataFunctions(const CLI::App& root) {
  std::vector<std::pair<std::string, std::string>> subs, opts, value_opts, choices, args;
  for (const CommandNode& node : CommandTree(root)) {
    std::vector<std::string> sub_names;
    for (const CLI::App* sub : VisibleSubcommands(*node.app)) {
      sub_names.push_back(sub->get_name());
      for (const std::string& alias : sub->get_aliases()) sub_names.push_back(alias);
    }
    subs.emplace_back(node.path, Join(sub_names));
    std::vector<std::string> names, value_names;
    std::vector<std::string> arg_words;
    for (const CLI::Option* o : UsableOptions(*node.app)) {
      if (!o->nonpositional()) {
        std::vector<std::string> c = Choices(*o);
        if (arg_words.empty()) arg_words = c.empty() ? std::vector<std::string>{"__files__"} : c;
        continue;
      }
      for (const std::string& n : OptionNames(*o)) {
        // A subcommand's own option shadows a global one of the same name.
        if (std::find(names.begin(), names.end(), n) != names.end()) continue;
        names.push_back(n);
        if (!TakesValue(*o)) continue;
        value_names.push_back(n);
        if (SafeWord(n)) choices.emplace_back(node.path + "|" + n, Join(Choices(*o)));
      }
    }
    opts.emplace_back(node.path, Join(names));
    value_opts.emplace_back(node.path, Join(value_names));
    args.emplace_back(node.path, Join(arg_words));
  }
  std::string out;
  out += CaseFunction("_vibekit_subcommands", "$1", subs);
  out += CaseFunction("_vibekit_options", "$1", opts);
  out += CaseFunction("_vibekit_value_options", "$1", value_opts);
  out += CaseFunction("_vibekit_choices", "$1|$2", choices);
  out += CaseFunction("_vibekit_args", "$1", args);
  out +=
      "_vibekit_takes_value() {\n"
      "  local list=\" $(_vibekit_value_options \"$1\") \"\n"
      "  [[ \"$list\" == *\" $2 \"* ]]\n"
      "}\n";
  return out;
}

constexpr const char* kBashMain = R"BASH(
_vibekit() {
  local cur="${COMP_WORDS[COMP_CWORD]}" prev="" cmdpath="vibekit" w list opt="" val
  local -i i skip=0
  (( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"
  COMPREPLY=()
  # The command typed so far: subcommand words, skipping options and their values.
  for (( i = 1; i < COMP_CWORD; i++ )); do
    w="${COMP_WORDS[i]}"
    if (( skip > 0 )); then skip=skip-1; continue; fi
    case "$w" in
      -*=*) continue ;;
      -*)
        if _vibekit_takes_value "$cmdpath" "$w"; then
          # "--format=json" is three words when '=' is in COMP_WORDBREAKS.
          if [[ "${COMP_WORDS[i+1]}" == "=" ]]; then skip=2; else skip=1; fi
        fi
        continue ;;
    esac
    list=" $(_vibekit_subcommands "$cmdpath") "
    [[ "$list" == *" $w "* ]] && cmdpath="$cmdpath $w"
  done
  # The value of an option: --format <TAB>, --format=<TAB>, --format=js<TAB>.
  val="$cur"
  if [[ "$cur" == -*=* ]]; then opt="${cur%%=*}"; val="${cur#*=}"
  elif [[ "$cur" == "=" && "$prev" == -* ]]; then opt="$prev"; val=""
  elif [[ "$prev" == "=" ]] && (( COMP_CWORD >= 2 )); then opt="${COMP_WORDS[COMP_CWORD-2]}"
  elif [[ "$prev" == -* ]]; then opt="$prev"
  fi
  if [[ -n "$opt" ]] && _vibekit_takes_value "$cmdpath" "$opt"; then
    list="$(_vibekit_choices "$cmdpath" "$opt")"
    if [[ -n "$list" ]]; then
      if [[ "$cur" == -*=* ]]; then
        COMPREPLY=( $(compgen -P "$opt=" -W "$list" -- "$val") )
      else
        COMPREPLY=( $(compgen -W "$list" -- "$val") )
      fi
    else
      compopt -o default 2>/dev/null
    fi
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$(_vibekit_options "$cmdpath")" -- "$cur") )
    return 0
  fi
  list="$(_vibekit_subcommands "$cmdpath")"
  [[ -z "$list" ]] && list="$(_vibekit_args "$cmdpath")"
  if [[ "$list" == "__files__" ]]; then
    compopt -o default 2>/dev/null
    return 0
  fi
  COMPREPLY=( $(compgen -W "$list" -- "$cur") )
  return 0
}
complete -F _vibekit vibekit
)BASH";

constexpr const char* kZshMain = R"ZSH(
_vibekit() {
  local cur="${words[CURRENT]}" prev="${words[CURRENT-1]}" cmdpath="vibekit" w list opt=""
  local -i i skip=0
  for (( i = 2; i < CURRENT; i++ )); do
    w="${words[i]}"
    if (( skip > 0 )); then skip=skip-1; continue; fi
    case "$w" in
      -*=*) continue ;;
      -*) _vibekit_takes_value "$cmdpath" "$w" && skip=1; continue ;;
    esac
    list=" $(_vibekit_subcommands "$cmdpath") "
    [[ "$list" == *" $w "* ]] && cmdpath="$cmdpath $w"
  done
  if [[ "$cur" == -*=* ]]; then
    opt="${cur%%=*}"
    compset -P '*='
  elif [[ "$prev" == -* ]]; then
    opt="$prev"
  fi
  if [[ -n "$opt" ]] && _vibekit_takes_value "$cmdpath" "$opt"; then
    list="$(_vibekit_choices "$cmdpath" "$opt")"
    if [[ -n "$list" ]]; then compadd -- ${=list}; else _files; fi
    return
  fi
  if [[ "$cur" == -* ]]; then
    list="$(_vibekit_options "$cmdpath")"
    compadd -- ${=list}
    return
  fi
  list="$(_vibekit_subcommands "$cmdpath")"
  [[ -z "$list" ]] && list="$(_vibekit_args "$cmdpath")"
  if [[ "$list" == "__files__" ]]; then
    _files
  elif [[ -n "$list" ]]; then
    compadd -- ${=list}
  fi
}
if [[ "${funcstack[1]}" == "_vibekit" ]]; then
  _vibekit "$@"
else
  compdef _vibekit vibekit
fi
)ZSH";

}  // namespace

std::string CompletionScript(const CLI::App& root, const std::string& shell) {
  std::string out;
  if (shell == "zsh") {
    out +=
        "#compdef vibekit\n"
        "# zsh completion for vibekit, generated from the command tree by "
        "`vibekit completion zsh`.\n"
        "# Load it with `source <(vibekit completion zsh)` after compinit, or save it as _vibekit\n"
        "# in a directory of $fpath.\n";
    out += DataFunctions(root);
    out += kZshMain;
  } else {
    out +=
        "# bash completion for vibekit, generated from the command tree by "
        "`vibekit completion bash`.\n"
        "# Load it with `source <(vibekit completion bash)`, e.g. from ~/.bashrc.\n";
    out += DataFunctions(root);
    out += kBashMain;
  }
  return out;
}

void RegisterCompletionCommand(CLI::App& app, const GlobalOptions& /*global*/, Runner& run) {
  auto shell = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("completion", "Print a shell completion script (bash or zsh)");
  cmd->add_option("shell", *shell, "Shell to complete for")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh"}));
  cmd->footer(
      "Examples:\n  source <(vibekit completion bash)      # in ~/.bashrc\n"
      "  source <(vibekit completion zsh)       # in ~/.zshrc, after compinit\n"
      "  vibekit completion zsh > \"${fpath[1]}/_vibekit\"");
  cmd->callback([&app, &run, shell] {
    run = [&app, shell]() -> int {
      const std::string script = CompletionScript(app, *shell);
      std::fwrite(script.data(), 1, script.size(), stdout);
      return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
    };
  });
}

}  // namespace vibekit::cli
