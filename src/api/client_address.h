// The client address of a request, for throttling and the session row: the TCP peer, unless the
// peer is one of the trusted reverse proxies (configured with --trusted-proxies), in which case the
// right-most address of X-Forwarded-For that is not itself a trusted proxy.
//
// Only addresses a trusted proxy appended can be believed; everything to their left may have
// been written by the client. So the list is read from the right, trusted hops are skipped, and
// the first other address is the client. When every hop is trusted, the left-most is used; an
// entry that is not an IP address stops the walk at the trusted hop that passed it on. Without
// trusted proxies (the default) the header is never read.
//
// Thread-safety: a pure function.
#ifndef HASIVU_API_CLIENT_ADDRESS_H_
#define HASIVU_API_CLIENT_ADDRESS_H_

#include <string>
#include <vector>

#include "common/ip_address.h"
#include "http/message.h"

namespace hasivu::api {

std::string ClientAddress(const http::Request& request,
                          const std::vector<IpRange>& trusted_proxies);

}  // namespace hasivu::api

#endif  // HASIVU_API_CLIENT_ADDRESS_H_
