#include "store/postgres/libpq_loader.h"

#include <dlfcn.h>

#include <mutex>
#include <string>
#include <type_traits>

namespace hasivu::store::postgres::pq {
namespace {

Functions functions;
Status load_status = Status::Ok();
std::once_flag loaded;

// libpq's soname for every PostgreSQL version since 8.x (libpq5 in Debian).
constexpr const char* kLibrary = "libpq.so.5";

Status LoadOnce() {
  // RTLD_LOCAL: nothing else in the process resolves against libpq or its dependencies.
  void* handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return UnavailableError(
        std::string("postgres: cannot load the PostgreSQL client library ") + kLibrary +
        " (Debian: apt-get install libpq5): " + (why != nullptr ? why : "unknown error"));
  }
  const auto find = [handle](const char* name, auto& slot) -> Status {
    void* address = dlsym(handle, name);
    if (address == nullptr) {
      return UnavailableError(std::string("postgres: ") + kLibrary + " has no " + name);
    }
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(address);
    return Status::Ok();
  };
  Functions f;
#define HASIVU_LIBPQ_FIND(name) RETURN_IF_ERROR(find(#name, f.name));
  HASIVU_LIBPQ_FUNCTIONS(HASIVU_LIBPQ_FIND)
#undef HASIVU_LIBPQ_FIND
  // The library stays loaded for the process's life: connections may outlive any one database.
  functions = f;
  return Status::Ok();
}

}  // namespace

Status Load() {
  std::call_once(loaded, [] { load_status = LoadOnce(); });
  return load_status;
}

const Functions& Loaded() { return functions; }

}  // namespace hasivu::store::postgres::pq
