// libpq, loaded when a PostgreSQL store is opened rather than when the process starts. Linked
// directly, libpq brings nineteen shared libraries (Kerberos, LDAP, SASL, GnuTLS and theirs) that
// the dynamic loader binds and initialises at every start, a quarter of a cold start's
// instructions on the embedded default that never uses them (docs/performance.md, "Start-up
// phases"; decisions.md D36). The backend calls libpq through the forwarders below, named as the
// functions they forward to, which call the addresses Load() found in libpq.so.5.
//
// Thread-safety: Load() may be called from any thread, any number of times (the first loads).
// The forwarders may be called from any thread once a Load() returned OK; before that they are a
// programming error (the backend's one entry point, OpenPostgresDatabase, loads first).
#ifndef HASIVU_STORE_POSTGRES_LIBPQ_LOADER_H_
#define HASIVU_STORE_POSTGRES_LIBPQ_LOADER_H_

#include <libpq-fe.h>

#include <utility>

#include "common/status.h"

// Every libpq function the backend calls.
// clang-format off
#define HASIVU_LIBPQ_FUNCTIONS(X) \
  X(PQclear) \
  X(PQcmdStatus) \
  X(PQcmdTuples) \
  X(PQconnectPoll) \
  X(PQconnectStartParams) \
  X(PQconninfoFree) \
  X(PQconninfoParse) \
  X(PQconsumeInput) \
  X(PQerrorMessage) \
  X(PQexec) \
  X(PQfinish) \
  X(PQfname) \
  X(PQfreemem) \
  X(PQftype) \
  X(PQgetResult) \
  X(PQgetisnull) \
  X(PQgetlength) \
  X(PQgetvalue) \
  X(PQisBusy) \
  X(PQnfields) \
  X(PQnotifies) \
  X(PQntuples) \
  X(PQputCopyData) \
  X(PQputCopyEnd) \
  X(PQresultErrorField) \
  X(PQresultErrorMessage) \
  X(PQresultStatus) \
  X(PQsendPrepare) \
  X(PQsendQuery) \
  X(PQsendQueryParams) \
  X(PQsendQueryPrepared) \
  X(PQsetNoticeReceiver) \
  X(PQsocket) \
  X(PQstatus) \
  X(PQtransactionStatus)
// clang-format on

namespace hasivu::store::postgres::pq {

// dlopen("libpq.so.5") and every function above from it; kUnavailable naming the library and
// the package that provides it if either fails. Later calls return the first one's result.
Status Load();

struct Functions {
#define HASIVU_LIBPQ_POINTER(name) decltype(&::name) name = nullptr;
  HASIVU_LIBPQ_FUNCTIONS(HASIVU_LIBPQ_POINTER)
#undef HASIVU_LIBPQ_POINTER
};

// The addresses Load() found. REQUIRES: Load() returned OK.
const Functions& Loaded();

#define HASIVU_LIBPQ_FORWARDER(name)                   \
  template <typename... Args>                          \
  inline auto name(Args&&... args) {                   \
    return Loaded().name(std::forward<Args>(args)...); \
  }
HASIVU_LIBPQ_FUNCTIONS(HASIVU_LIBPQ_FORWARDER)
#undef HASIVU_LIBPQ_FORWARDER

}  // namespace hasivu::store::postgres::pq

#endif  // HASIVU_STORE_POSTGRES_LIBPQ_LOADER_H_
