// Every prompt of the LLM strategies, in one place. Each built-in template follows its paper's
// published format (sources in docs/strategies.md); users can replace any part through options.
//
// Placeholders, replaced in one pass (so text coming from queries or documents is never expanded):
//   in `user`:    {query} {num} {passages} {instruction}
//   in `passage`: {id} {passage} {score}
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rerank/chat_format.h"
#include "rerank/options.h"

namespace rerank::llm {

struct PromptTemplate {
  std::string system;         // system turn ("" for none)
  std::string user;           // the user turn
  std::string passage;        // one passage inside {passages}
  std::string separator;      // between two rendered passages
  std::string answer_prefix;  // the start of the assistant's answer, written by us
};

// The default task instruction of instruction-aware embedding models (Qwen3-Embedding, E2Rank):
// Qwen3-Reranker's (chat_format.h).
inline const std::string& default_retrieval_instruction() { return qwen3_reranker_prompt().instruction; }

// Built-in templates by name: rankzephyr (listwise), first, prp (pairwise), setwise, insertrank,
// embedding-query, e2rank-query.
const PromptTemplate& builtin_template(const std::string& name);

// The user's prompt options, read before the model is known: option `template` picks another
// built-in template; `system`, `prompt`, `passage_format`, `answer_prefix` replace single parts
// (text, or @FILE: prompts can be kept in files).
struct PromptChoice {
  std::string template_name;  // empty: the strategy's default
  std::optional<std::string> system, user, passage, answer_prefix;
};
PromptChoice read_prompt_choice(OptionReader& params);

// The default template (or the chosen one) with the parts replaced, checked for the placeholders
// the strategy needs; errors start with `strategy`.
PromptTemplate resolve_prompt(const PromptChoice& choice, const std::string& default_name,
                              const std::string& strategy, bool needs_passage_ids);

// resolve_prompt(read_prompt_choice(params), ...), for strategies whose default is fixed.
PromptTemplate template_from_params(OptionReader& params, const std::string& default_name,
                                    bool needs_passage_ids);

struct PromptPassage {
  std::string id;    // identifier shown to the model: "1", "A", ...
  std::string text;  // already truncated
  double score = 0;  // first-stage score (InsertRank)
};

// Replaces {name} for every name in `vars`; other braces are left alone.
std::string substitute(const std::string& text, const std::map<std::string, std::string>& vars);

// The user turn with its passages rendered.
std::string render_user(const PromptTemplate& t, const std::string& query,
                        const std::vector<PromptPassage>& passages, const std::string& instruction = "");

// The identifiers FIRST and setwise use: A, B, ..., Z (each one token in common vocabularies).
std::string letter_id(std::size_t index);

// A first-stage score as shown to the model (InsertRank): two decimals.
std::string format_score(double score);

}  // namespace rerank::llm
