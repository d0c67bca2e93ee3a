// Writers for documents and queries in each supported format (the counterparts of CorpusReader and
// read_queries in rerank/io.h), used by `rerank convert`. Each writes one record; a value the
// target format cannot represent throws rerank::Error naming the record, never writes a broken file.
#pragma once
#include <iosfwd>

#include "rerank/types.h"

namespace rerank {

// {"_id": .., "title": .., "text": ..} on one line.
void write_beir_document(std::ostream& out, const Document& doc);
// <DOC>/<DOCNO>/<TITLE>/text/</DOC> on separate lines (<TITLE> only when there is a title). A title
// or text holding a tag (<NAME> or </NAME>), which the reader would strip, cannot be represented and
// throws; a plain "<" (as in "p < 0.05") is fine.
void write_trec_document(std::ostream& out, const Document& doc);

// {"_id": .., "text": ..} on one line.
void write_beir_query(std::ostream& out, const Query& query);
// <top>, <num> Number: ID, <title> TEXT, </top> on separate lines. Text holding "<" then a letter or
// "/" (where the reader ends a field) throws.
void write_trec_topic(std::ostream& out, const Query& query);
// ID<TAB>TEXT; tabs and line breaks inside the text become spaces.
void write_tsv_query(std::ostream& out, const Query& query);

}  // namespace rerank
