// Trust anchors for verifying remote servers, built from the DER certificates the parent
// read (proto TrustStore), so the chrooted s2s worker needs no file and no lazy lookups.
#pragma once

#include <openssl/x509.h>

#include <map>
#include <memory>
#include <string>

#include "control.pb.h"

namespace xmppd::tls {

struct X509StoreDeleter {
  void operator()(X509_STORE* store) const { X509_STORE_free(store); }
};
using X509StorePtr = std::unique_ptr<X509_STORE, X509StoreDeleter>;

// Certificates that do not parse are skipped and counted out of `loaded`.
X509StorePtr build_trust_store(const ipc::TrustStore& anchors, std::size_t& loaded);

// The store each local host verifies remote servers against.
class TrustStores {
 public:
  void configure(const ipc::S2sSettings& settings);
  X509_STORE* for_host(const std::string& host) const;

 private:
  std::vector<X509StorePtr> stores_;
  std::map<std::string, X509_STORE*> by_host_;
};

}  // namespace xmppd::tls
