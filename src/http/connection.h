// Internal to src/http (never included outside it). Connection: one accepted HTTP/1.1
// connection, from its first byte to its close, as server.h describes it: reads heads and bodies
// within the limits, dispatches each request to the router, answers in request order
// (pipelining), keeps the connection alive or ends it, and on shutdown or after a final answer
// half-closes and drains before closing.
//
// The member functions live in three units, by purpose:
//   connection.cc       reading, dispatch, keep-alive, shutdown and the lingering close
//   request_limits.cc   the timers (first-byte, idle, head, body, write)
//   response_writer.cc  completing, serialising and writing responses, and "100 Continue"
// This header brings in the Beast parser; only those three units include it (server.cc talks
// to connections through server_internal.h).
//
// Ownership: a connection owns its socket and keeps itself alive through the shared_ptrs its
// pending handlers hold; it is listed in its Worker's `connections` from Start() to its close.
// Thread-safety: none needed; everything runs on its worker's thread, except the handler of an
// offloaded route (which touches only the server and the request) and EncodeResponse.
#ifndef HASIVU_HTTP_CONNECTION_H_
#define HASIVU_HTTP_CONNECTION_H_

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/server_internal.h"

namespace hasivu::http::internal {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `address_group`: the per-address slot this connection holds (released on close), or empty.
  // `server` and `worker` must outlive the connection.
  Connection(ServerImpl& server, Worker& worker, tcp::socket socket, Admission admission,
             std::string address_group);
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Serves the connection, or, when it was not admitted, answers 503 and closes it.
  void Start();
  // Server shutdown: no new requests; close now if nothing is in flight, else after the last
  // response. A request whose body is being received still counts as in flight.
  void BeginShutdown();
  // Closes the socket at once and releases the connection's slots. Idempotent.
  void Close();

 private:
  enum class ReadState { kNone, kWaiting, kHeader, kBody };
  enum class TimerPhase { kNone, kIdle, kHeader, kBody, kLinger };

  // connection.cc
  void DoRead();
  void OnReadable(boost::system::error_code ec);
  void ReadHeader();
  void OnHeader(boost::system::error_code ec);
  void OnBody(boost::system::error_code ec);
  void OnReadError(boost::system::error_code ec);
  void OnRequest();
  void Dispatch(const std::shared_ptr<Pending>& pending, Request request);
  bool MaybeFinish();
  void StartLingeringClose();
  void Drain();

  // response_writer.cc
  void MaybeSendContinue();
  // `encoded`: EncodeResponse already ran (on the pool thread that ran the handler).
  void Complete(const std::shared_ptr<Pending>& pending, Response response,
                const RouteMetrics& metrics, bool encoded = false);
  void BuildHead(Pending& pending, bool close);
  void DoWrite();
  void OnWrite(boost::system::error_code ec);

  // request_limits.cc
  void UpdateIdleTimer();
  void ArmReadTimer(TimerPhase phase, std::chrono::milliseconds timeout);
  void OnReadTimer(boost::system::error_code ec, uint64_t generation);
  void ArmWriteTimer();
  void OnWriteTimer(boost::system::error_code ec);
  // Whether an expired timer may be acted on now; else re-arms `timer` for this thread's next
  // timeout slot and returns false (`deferred` remembers it, so the slot is not waited twice).
  bool TimeoutSlotReached(asio::steady_timer& timer, bool& deferred);
  // The head or body clock ran out: answer 408 (or cut the connection while a write is in flight).
  void OnReadTimeout();

  ServerImpl& server_;
  Worker& worker_;
  const ServerSettings& settings_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  asio::steady_timer read_timer_;
  asio::steady_timer write_timer_;
  const Admission admission_;
  const bool reject_;
  const std::string address_group_;
  std::string remote_;

  std::deque<std::shared_ptr<Pending>> queue_;
  std::vector<asio::const_buffer> write_buffers_;
  size_t write_count_ = 0;
  bool close_after_write_ = false;

  ReadState read_state_ = ReadState::kNone;
  TimerPhase timer_phase_ = TimerPhase::kNone;
  uint64_t timer_generation_ = 0;
  bool read_timeout_deferred_ = false;
  bool write_timeout_deferred_ = false;
  SteadyClock::time_point received_at_;
  SteadyClock::time_point read_started_at_;  // the current head's ReadHeader()
  bool read_closed_ = false;                 // no further requests will be read
  bool got_first_byte_ = false;
  // OnReadTimeout cancelled the read: its completion answers 408.
  bool read_timed_out_ = false;
  // Reading paused with max_pipelined requests waiting (counted once per pause).
  bool read_paused_ = false;
  // This connection claimed the server's first request and has not written its answer yet.
  bool holds_first_request_ = false;
  bool writing_ = false;
  bool stopping_ = false;
  bool lingering_ = false;
  bool closed_ = false;
  size_t linger_bytes_ = 0;
};

}  // namespace hasivu::http::internal

#endif  // HASIVU_HTTP_CONNECTION_H_
