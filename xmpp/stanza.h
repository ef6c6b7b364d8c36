// Building replies to stanzas (RFC 6120 §8): the same kind and id, addresses swapped, and
// errors with their condition.
#pragma once

#include <string_view>

#include "xml/element.h"
#include "xmpp/namespaces.h"

namespace xmppd::xmpp {


// A reply of `type` ("result", "error"): same element and id, 'from' and 'to' swapped.
xml::Element reply(const xml::Element& stanza, std::string_view type);

// An error reply (RFC 6120 §8.3). The caller must not answer an error with an error.
xml::Element error_reply(const xml::Element& stanza, std::string_view type, std::string_view condition,
                         std::string_view text = {});

bool is_error(const xml::Element& stanza);

}  // namespace xmppd::xmpp
