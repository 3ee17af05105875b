// LogCapture: for the lifetime of the object, spdlog's default logger writes into a string the
// test can read, so a test can check what an operator would see in the log. Not thread-safe
// against other tests replacing the default logger; gtest runs tests one at a time.
#ifndef HASIVU_API_TESTING_LOG_CAPTURE_H_
#define HASIVU_API_TESTING_LOG_CAPTURE_H_

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>

namespace hasivu::api::testing {

class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("log-capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Everything logged since construction.
  std::string Text() {
    spdlog::default_logger()->flush();
    return out_.str();
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

}  // namespace hasivu::api::testing

#endif  // HASIVU_API_TESTING_LOG_CAPTURE_H_
