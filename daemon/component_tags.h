// Tags of the external components' secrets for the router (RouterSettings
// component_secret_tags): the router, which never holds a secret, compares a component's tag
// across reloads and ends the component's stream when its secret changed.
//
// Trusts: nothing; the key is made here at start and never leaves the parent.
#pragma once

#include <string>
#include <string_view>

namespace xmppd::parent {

// HMAC-SHA-256(key, secret) under a random key of this process: equal for equal secrets
// within one run of xmppd, and useless for guessing a secret without the key.
std::string component_secret_tag(std::string_view secret);

}  // namespace xmppd::parent
