#include "tls/trust_store.h"

#include "common/log.h"

namespace xmppd::tls {

X509StorePtr build_trust_store(const ipc::TrustStore& anchors, std::size_t& loaded) {
  X509StorePtr store(X509_STORE_new());
  loaded = 0;
  for (const std::string& der : anchors.anchors()) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    X509* cert = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
    if (cert != nullptr && X509_STORE_add_cert(store.get(), cert) == 1) ++loaded;
    X509_free(cert);
  }
  return store;
}

void TrustStores::configure(const ipc::S2sSettings& settings) {
  std::vector<X509StorePtr> stores;
  for (const ipc::TrustStore& anchors : settings.trust_stores()) {
    std::size_t loaded = 0;
    stores.push_back(build_trust_store(anchors, loaded));
    log::info("trust anchors for remote servers: %zu from %s", loaded, anchors.source().c_str());
  }
  std::map<std::string, X509_STORE*> by_host;
  for (const ipc::HostTls& tls : settings.tls())
    if (tls.trust_store() < stores.size()) by_host[tls.host()] = stores[tls.trust_store()].get();
  stores_ = std::move(stores);
  by_host_ = std::move(by_host);
}

X509_STORE* TrustStores::for_host(const std::string& host) const {
  auto it = by_host_.find(host);
  return it == by_host_.end() ? nullptr : it->second;
}

}  // namespace xmppd::tls
