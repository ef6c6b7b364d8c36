#include "tls/service.h"

#include "common/log.h"

namespace xmppd::tls {

Service::Service(struct event_base* base, std::string name, std::string alpn, ViolationHandler on_violation)
    : base_(base), name_(std::move(name)), on_violation_(std::move(on_violation)), contexts_(alpn) {
  if (alpn == "xmpp-server") clients_ = std::make_unique<ClientContexts>();
}

void Service::configure(const google::protobuf::RepeatedPtrField<ipc::HostTls>& options) {
  contexts_.set_options(options);
  if (clients_) clients_->set_options(options);
}

void Service::link_helper(UniqueFd sock) {
  // The old link, if any, is dead already: the parent only sends a new one after a restart.
  helper_.reset();
  helper_ = std::make_unique<HelperLink>(
      base_, std::move(sock), [this](const ipc::CertificateSet& set) {
        contexts_.set_certificates(set);
        if (clients_) clients_->set_certificates(set);
        has_certificates_ = true;
        if (on_certificates_) on_certificates_();
      },
      [this](bool violation, std::string_view detail) {
        if (violation)
          on_violation_(detail);
        else
          log::info("link to the tls helper closed (%.*s); waiting for a new one", static_cast<int>(detail.size()),
                    detail.data());
      });
}

}  // namespace xmppd::tls
