// trec_eval's output lines (meas_print_single.c, meas_print_final.c).
#include <cstdio>
#include <ostream>

#include "rerank/eval.h"

namespace rerank::eval {

std::string format_line(const std::string& name, const std::string& qid, double value, ValueType type,
                        const std::string& text) {
  // The measure name is left-aligned in 22 columns, then tabs; floats "%6.4f", counts "%ld".
  std::string line;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%-22s", name.c_str());
  line.append(name.size() >= 22 ? name : std::string(buf)).append("\t").append(qid).append("\t");
  switch (type) {
    case ValueType::kFloat:
      std::snprintf(buf, sizeof buf, "%6.4f", value);
      line.append(buf);
      break;
    case ValueType::kCount:
      std::snprintf(buf, sizeof buf, "%ld", static_cast<long>(value));
      line.append(buf);
      break;
    case ValueType::kText:
      line.append(text);
      break;
  }
  line.push_back('\n');
  return line;
}

void write_report(std::ostream& out, const Report& report, bool per_query, bool summary) {
  std::string text;
  auto flush = [&] {
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    text.clear();
  };
  if (per_query) {
    for (const auto& q : report.queries) {
      for (std::size_t c = 0; c < report.columns.size(); ++c) {
        const Column& col = report.columns[c];
        if (col.per_query) text += format_line(col.name, q.qid, q.values[c], col.type);
      }
      if (text.size() > (1 << 16)) flush();
    }
  }
  if (summary) {
    for (std::size_t c = 0; c < report.columns.size(); ++c) {
      const Column& col = report.columns[c];
      text += format_line(col.name, "all", report.summary[c], col.type, report.runid);
    }
  }
  flush();
}

}  // namespace rerank::eval
