// Noticing that a client has gone while its request waits for the model, so that the request can be
// dropped before it costs compute. cpp-httplib 0.11 (Debian 12) does not hand a handler its socket
// (later versions have Request::is_connection_closed), but the handler runs on the thread that owns
// the connection, so the socket is found once among the process' descriptors by its two addresses.
#pragma once
#include <string>

namespace rerank::server {

class ClientConnection {
 public:
  // The connected socket whose local port is `local_port` and whose peer is remote_addr:remote_port;
  // when none is found (never expected), gone() is always false.
  ClientConnection(const std::string& remote_addr, int remote_port, int local_port);
  // True once the peer has closed its side or the connection has failed. Does not consume input.
  bool gone() const;
  bool found() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

}  // namespace rerank::server
