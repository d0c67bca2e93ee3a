// A test double for the LLM backend that answers from relevance judgements, at the level of label
// logits, generated text and embeddings, as a perfect model would: it recognises passages in each
// prompt by their (unique) text and prefers the more relevant one. It records every call so tests can
// count model calls and check that requests of many queries share a call.
#pragma once
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "rerank/llm_backend.h"

namespace rerank::test {

class OracleBackend : public LlmBackend {
 public:
  // grade of each passage text; texts not listed (e.g. empty documents) are treated as grade -1.
  explicit OracleBackend(std::map<std::string, int> grades)
      : grades_(std::move(grades)), marked_texts_only_(marked_texts_only(grades_)) {}

  // When set, generate() answers this text instead of the ideal permutation.
  std::string forced_generation;

  std::vector<std::size_t> label_calls, generate_calls, embed_calls;  // batch size of each call
  std::vector<LabelRequest> label_requests;
  std::vector<GenerationRequest> generation_requests;
  std::vector<std::string> embedded;

  std::vector<LabelLogits> label_logits(const std::vector<LabelRequest>& requests) override {
    label_calls.push_back(requests.size());
    std::vector<LabelLogits> out;
    for (const auto& r : requests) {
      label_requests.push_back(r);
      const auto found = passages_in(r.prompt);
      LabelLogits l;
      for (std::size_t i = 0; i < r.labels.size(); ++i)
        l.logits.push_back(i < found.size() ? static_cast<float>(found[i]) : -1000.0f);
      l.cost = cost_of(r.prompt, 0);
      out.push_back(std::move(l));
    }
    return out;
  }

  std::vector<Generation> generate(const std::vector<GenerationRequest>& requests) override {
    generate_calls.push_back(requests.size());
    std::vector<Generation> out;
    for (const auto& r : requests) {
      generation_requests.push_back(r);
      Generation g;
      if (!forced_generation.empty()) {
        g.text = forced_generation;
      } else {
        const auto found = passages_in(r.prompt);
        std::vector<std::size_t> ids(found.size());
        for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = i;
        std::stable_sort(ids.begin(), ids.end(),
                         [&](std::size_t a, std::size_t b) { return found[a] > found[b]; });
        for (std::size_t i = 0; i < ids.size(); ++i)
          g.text.append(i ? " > [" : "[").append(std::to_string(ids[i] + 1)).append("]");
      }
      g.cost =
          cost_of(r.prompt, 3 * static_cast<std::uint64_t>(std::count(g.text.begin(), g.text.end(), '[')));
      out.push_back(std::move(g));
    }
    return out;
  }

  std::vector<Embedding> embed(const std::vector<std::string>& texts) override {
    embed_calls.push_back(texts.size());
    std::vector<Embedding> out;
    for (const auto& t : texts) {
      embedded.push_back(t);
      Embedding e;
      if (t.find("Query:") != std::string::npos) {
        e.vector = {1.0f, 0.0f};  // a query points along the relevance axis
      } else {
        auto it = grades_.find(t);
        const int grade = it == grades_.end() ? -1 : it->second;
        e.vector = {static_cast<float>(grade + 1), 1.0f};  // cosine with the query grows with the grade
      }
      e.cost = cost_of(t, 0);
      out.push_back(std::move(e));
    }
    return out;
  }

  bool labels_are_single_tokens(const std::vector<std::string>&) const override { return true; }
  std::string truncate(const std::string& text, std::size_t) const override { return text; }

  // Grades of the known passages in the prompt, in order of appearance.
  std::vector<int> passages_in(const std::string& prompt) const {
    if (marked_texts_only_) return marked_passages_in(prompt);
    std::vector<std::pair<std::size_t, int>> at;
    for (const auto& [text, grade] : grades_) {
      if (text.empty()) continue;
      for (std::size_t p = prompt.find(text); p != std::string::npos; p = prompt.find(text, p + text.size()))
        at.emplace_back(p, grade);
    }
    std::sort(at.begin(), at.end());
    std::vector<int> grades;
    for (const auto& [p, g] : at) grades.push_back(g);
    return grades;
  }

 private:
  // The fixtures' passages are "<passage ...>": found by their markers, not by searching the prompt for
  // every text (which made 10,000-candidate tests take minutes in the double, not in the strategies).
  static bool marked_texts_only(const std::map<std::string, int>& grades) {
    return std::all_of(grades.begin(), grades.end(), [](const auto& g) {
      return g.first.empty() ||
             (g.first.rfind("<passage ", 0) == 0 && g.first.find('>') == g.first.size() - 1);
    });
  }
  std::vector<int> marked_passages_in(const std::string& prompt) const {
    std::vector<int> grades;
    for (std::size_t p = prompt.find("<passage "); p != std::string::npos;
         p = prompt.find("<passage ", p + 1)) {
      const std::size_t end = prompt.find('>', p);
      if (end == std::string::npos) break;
      const auto it = grades_.find(prompt.substr(p, end + 1 - p));
      if (it != grades_.end()) grades.push_back(it->second);
    }
    return grades;
  }

  static RerankCost cost_of(const std::string& prompt, std::uint64_t generated) {
    RerankCost c;
    c.model_calls = 7;  // must be ignored: the strategies count model calls themselves
    c.forward_passes = 1 + generated;
    c.prompt_tokens = prompt.size();
    c.generated_tokens = generated;
    c.flops = 1000.0 * static_cast<double>(prompt.size() + generated);
    return c;
  }

  std::map<std::string, int> grades_;
  bool marked_texts_only_;  // checked once: every passage text is "<passage ...>"
};

}  // namespace rerank::test
