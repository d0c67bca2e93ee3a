#include "rerankers/prompts.h"

#include <cstdio>

#include "rerank/error.h"

namespace rerank::llm {
namespace {

const std::string kRankLlmSystem =
    "You are RankLLM, an intelligent assistant that can rank passages based on their relevancy to the "
    "query.";

// RankZephyr / RankVicuna single-turn listwise format (RankLLM), numbered identifiers [1]..[n].
PromptTemplate rankzephyr() {
  return {kRankLlmSystem,
          "I will provide you with {num} passages, each indicated by a numerical identifier []. Rank the "
          "passages based on their relevance to the search query: {query}.\n\n{passages}Search Query: "
          "{query}.\nRank the {num} passages above based on their relevance to the search query. All the "
          "passages should be included and listed using identifiers, in descending order of relevance. "
          "The output format should be [] > [], e.g., [4] > [2]. Only respond with the ranking results, "
          "do not say any word or explain.",
          "[{id}] {passage}\n", "", ""};
}

// FIRST (Reddy et al. 2024): the RankZephyr format with alphabetical identifiers [A]..[T]; the
// ranking is read from the logits of the first identifier after "[".
PromptTemplate first() {
  return {kRankLlmSystem,
          "I will provide you with {num} passages, each indicated by a alphabetical identifier []. Rank the "
          "passages based on their relevance to the search query: {query}.\n\n{passages}Search Query: "
          "{query}.\nRank the {num} passages above based on their relevance to the search query. All the "
          "passages should be included and listed using identifiers, in descending order of relevance. "
          "The output format should be [] > [], e.g., [D] > [B], Only respond with the ranking results, "
          "do not say any word or explain.",
          "[{id}] {passage}\n", "", "["};
}

// PRP (Qin et al. 2023), the generation/scoring prompt; the answer "Passage A" / "Passage B" is read
// from the logits of " A" and " B" after "Passage".
PromptTemplate prp() {
  return {"",
          "Given a query \"{query}\", which of the following two passages is more relevant to the query?"
          "\n\n{passages}\n\nOutput Passage A or Passage B:",
          "Passage {id}: \"{passage}\"", "\n\n", "Passage"};
}

// Setwise (Zhuang et al. 2024).
PromptTemplate setwise() {
  return {"",
          "Given a query \"{query}\", which of the following passages is the most relevant one to the "
          "query?\n\n{passages}\n\nOutput only the passage label of the most relevant passage:",
          "Passage {id}: \"{passage}\"", "\n\n", "Passage"};
}

// InsertRank (Seetharaman et al. 2025): the listwise format with each passage's BM25 score.
PromptTemplate insertrank() {
  return {kRankLlmSystem,
          "I will provide you with {num} passages, each indicated by a numerical identifier []. I will "
          "also provide the BM25 scores from a lexical retrieval system.\n\nRank the passages based on "
          "their relevance to the search query: {query}.\n\n{passages}Search Query: {query}.\nRerank the "
          "above {num} passages based on their relevance to the query. Consider both the document content "
          "and the BM25 scores as signals for relevance. All the passages should be included and listed "
          "using identifiers, in descending order of relevance. The output format should be [] > [], e.g., "
          "[4] > [2]. Only respond with the ranking results, do not say any word or explain.",
          "[{id}] {passage}\nBM25 score for passage [{id}]: {score}\n", "", ""};
}

// Qwen3-Embedding / E5-instruct query format; documents are embedded as they are.
PromptTemplate embedding_query() { return {"", "Instruct: {instruction}\nQuery:{query}", "", "", ""}; }

// E2Rank (Liu et al. 2025): the query embedding is taken from a listwise prompt made of the
// instruction, the top-k candidates and the query (pseudo-relevance feedback).
PromptTemplate e2rank_query() {
  return {"", "{instruction}\nDocuments:\n{passages}Search Query:{query}", "[{id}] {passage}\n", "", ""};
}

// Encoder embedding models (all-MiniLM, bge): the query as it is.
PromptTemplate plain_query() { return {"", "{query}", "", "", ""}; }

// E2Rank's pseudo-relevance-feedback query for encoders: the query first, since mean-pooled encoder
// inputs are truncated at their end.
PromptTemplate e2rank_query_encoder() { return {"", "{query}\n{passages}", "[{id}] {passage}\n", "", ""}; }

const std::map<std::string, PromptTemplate>& builtins() {
  static const std::map<std::string, PromptTemplate> all = {
      {"rankzephyr", rankzephyr()},
      {"first", first()},
      {"prp", prp()},
      {"setwise", setwise()},
      {"insertrank", insertrank()},
      {"embedding-query", embedding_query()},
      {"e2rank-query", e2rank_query()},
      {"plain-query", plain_query()},
      {"e2rank-query-encoder", e2rank_query_encoder()},
  };
  return all;
}

}  // namespace

const PromptTemplate& builtin_template(const std::string& name) {
  auto it = builtins().find(name);
  if (it != builtins().end()) return it->second;
  std::string list;
  for (const auto& [k, v] : builtins()) list += (list.empty() ? "" : ", ") + k;
  throw Error("unknown prompt template '" + name + "' (built-in: " + list + ")");
}

PromptChoice read_prompt_choice(OptionReader& params) {
  PromptChoice c;
  c.template_name = params.text("template", "");
  auto part = [&params](const char* key) -> std::optional<std::string> {
    if (!params.has(key)) {
      params.accept({key});
      return std::nullopt;
    }
    return params.text(key, "");
  };
  c.system = part("system");
  c.user = part("prompt");
  c.passage = part("passage_format");
  c.answer_prefix = part("answer_prefix");
  return c;
}

PromptTemplate resolve_prompt(const PromptChoice& choice, const std::string& default_name,
                              const std::string& s, bool needs_passage_ids) {
  PromptTemplate t = builtin_template(choice.template_name.empty() ? default_name : choice.template_name);
  if (choice.system) t.system = *choice.system;
  if (choice.user) t.user = *choice.user;
  if (choice.passage) t.passage = *choice.passage;
  if (choice.answer_prefix) t.answer_prefix = *choice.answer_prefix;
  if (!t.passage.empty()) {
    if (t.user.find("{passages}") == std::string::npos)
      throw Error(s + ": the prompt template has no {passages} placeholder");
    if (t.passage.find("{passage}") == std::string::npos)
      throw Error(s + ": the passage format has no {passage} placeholder");
    if (needs_passage_ids && t.passage.find("{id}") == std::string::npos)
      throw Error(s + ": the passage format has no {id} placeholder, so the model cannot name passages");
  }
  if (t.user.find("{query}") == std::string::npos)
    throw Error(s + ": the prompt template has no {query} placeholder");
  return t;
}

PromptTemplate template_from_params(OptionReader& params, const std::string& default_name,
                                    bool needs_passage_ids) {
  return resolve_prompt(read_prompt_choice(params), default_name, params.owner(), needs_passage_ids);
}

std::string substitute(const std::string& text, const std::map<std::string, std::string>& vars) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      std::size_t close = text.find('}', i + 1);
      if (close != std::string::npos) {
        auto it = vars.find(text.substr(i + 1, close - i - 1));
        if (it != vars.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out.push_back(text[i++]);
  }
  return out;
}

std::string render_user(const PromptTemplate& t, const std::string& query,
                        const std::vector<PromptPassage>& passages, const std::string& instruction) {
  std::string rendered;
  for (std::size_t i = 0; i < passages.size(); ++i) {
    if (i) rendered += t.separator;
    rendered += substitute(
        t.passage,
        {{"id", passages[i].id}, {"passage", passages[i].text}, {"score", format_score(passages[i].score)}});
  }
  return substitute(t.user, {{"query", query},
                             {"num", std::to_string(passages.size())},
                             {"passages", rendered},
                             {"instruction", instruction}});
}

std::string letter_id(std::size_t index) {
  if (index >= 26) throw Error("at most 26 passages can have letter identifiers");
  return std::string(1, static_cast<char>('A' + index));
}

std::string format_score(double score) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", score);
  return buf;
}

}  // namespace rerank::llm
