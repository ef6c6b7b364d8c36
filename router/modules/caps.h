// XEP-0115 entity capabilities: the verification string of a disco#info result, which the
// disco module advertises for the server and the pep module checks for clients.
#pragma once

#include <string>

#include "xml/element.h"

namespace xmppd::router {

// XEP-0115 §5.1 (with §5.4's form rules): the verification string of a disco#info <query/>,
// hashed with SHA-1 and in base64. SHA-1 is what clients send and expect; the string names a
// set of features, it does not protect anything.
std::string caps_ver(const xml::Element& query);

}  // namespace xmppd::router
