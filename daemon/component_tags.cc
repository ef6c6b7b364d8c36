// component_secret_tag (component_tags.h).
#include "daemon/component_tags.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "common/log.h"

namespace xmppd::parent {
namespace {

const std::string& tag_key() {
  static const std::string key = [] {
    std::string k(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(k.data()), static_cast<int>(k.size())) != 1)
      log::fatal("cannot make the component secret tag key: no randomness");
    return k;
  }();
  return key;
}

}  // namespace

std::string component_secret_tag(std::string_view secret) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  const std::string& key = tag_key();
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), md, &size) == nullptr)
    log::fatal("cannot tag a component secret");
  return std::string(reinterpret_cast<const char*>(md), size);
}

}  // namespace xmppd::parent
