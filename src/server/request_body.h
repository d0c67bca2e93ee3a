// Request bodies under the limit, and refusals that close the connection. httplib (0.11) caps a body
// sent with Content-Length at the payload limit but gathers a chunked or gzip one (counted inflated)
// without limit, and leaves the body of a request refused before it was read (a wrong key) in the
// connection, where it is taken for the next request.
#pragma once
#include <httplib.h>

#include <cstddef>
#include <string>

#include "server/dialects.h"

namespace rerank::server {

extern const char* const kBodyTooLarge;

// Sends the error and closes the connection after it: httplib ends a connection whose response body
// fails to write, so a provider writes the body whole and then reports failure.
void send_error_and_close(httplib::Response& res, Dialect dialect, int status, const std::string& message);

// Reads the body into `body`, at most max_bytes of it (inflated); false, with the error sent (413 over
// the limit, 400 a body cut short or a multipart form), when it cannot.
bool read_body(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read,
               Dialect dialect, std::size_t max_bytes, std::string& body);

}  // namespace rerank::server
