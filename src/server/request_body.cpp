#include "server/request_body.h"

#include <memory>

namespace rerank::server {

const char* const kBodyTooLarge = "the request body is larger than the limit";

void send_error_and_close(httplib::Response& res, Dialect dialect, int status, const std::string& message) {
  auto body = std::make_shared<const std::string>(render_error(dialect, status, message));
  res.status = status;
  res.set_header("Connection", "close");
  res.set_content_provider(body->size(), "application/json",
                           [body](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                             sink.write(body->data() + offset, length);
                             return false;
                           });
}

bool read_body(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& read,
               Dialect dialect, std::size_t max_bytes, std::string& body) {
  if (req.is_multipart_form_data()) {  // httplib reads those only into form fields
    send_error_and_close(res, dialect, 400, "the request body must be JSON, not multipart/form-data");
    return false;
  }
  bool too_large = false;
  const bool whole = read([&](const char* data, std::size_t size) {
    too_large = body.size() + size > max_bytes;
    if (!too_large) body.append(data, size);
    return !too_large;
  });
  if (whole) return true;
  too_large |= res.status == 413;  // httplib's own check of Content-Length
  // The rest of the body is unread: the connection cannot carry another request.
  send_error_and_close(res, dialect, too_large ? 413 : 400,
                       too_large ? kBodyTooLarge : "the request body could not be read");
  return false;
}

}  // namespace rerank::server
