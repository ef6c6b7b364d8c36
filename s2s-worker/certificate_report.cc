// The TLS part of a stream report (certificate_report.h). Trusts nothing it is given.
#include "s2s-worker/certificate_report.h"

#include <openssl/bio.h>

#include <memory>
#include <optional>

#include "common/utf8_text.h"
#include "xmpp/jid.h"

namespace xmppd::s2s {
namespace {

std::string subject_of(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0) return "?";
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return bounded(std::string_view(data, length > 0 ? static_cast<std::size_t>(length) : 0));
}

}  // namespace

std::string bounded(std::string_view text) { return utf8_prefix(text, kMaxReportedString); }

std::string claimed_domain(std::string_view claimed) {
  std::optional<std::string> domain = xmpp::prepare_domainpart(claimed);
  // A valid domain is at most 1023 bytes: cut, it would name another; better none.
  if (!domain || domain->size() > kMaxReportedString) return std::string(kInvalidDomain);
  return *domain;
}

ipc::CertificateStatus certificate_status(const tls::PeerVerification& v, bool dane_matched) {
  if (dane_matched) return ipc::CERTIFICATE_TRUSTED;
  switch (v.chain) {
    case tls::ChainStatus::kNoCertificate:
      return ipc::CERTIFICATE_NONE;
    case tls::ChainStatus::kTrusted:
      return v.identity == tls::IdentityStatus::kMatches ? ipc::CERTIFICATE_TRUSTED : ipc::CERTIFICATE_WRONG_NAME;
    case tls::ChainStatus::kExpired:
    case tls::ChainStatus::kNotYetValid:
      return ipc::CERTIFICATE_EXPIRED;
    default:
      return ipc::CERTIFICATE_UNTRUSTED;
  }
}

std::string certificate_error(const tls::PeerVerification& v, std::string_view domain, bool dane_matched) {
  if (dane_matched || v.chain == tls::ChainStatus::kNoCertificate || v.trusted_for(domain)) return {};
  std::string why = v.chain == tls::ChainStatus::kTrusted ? std::string() : v.detail;
  if (v.identity != tls::IdentityStatus::kMatches) {
    if (!why.empty()) why += "; ";
    why += "the certificate does not name ";
    why += domain;
  }
  return bounded(why);
}

std::vector<std::string> chain_subjects(X509* leaf, STACK_OF(X509) * chain) {
  std::vector<std::string> subjects;
  if (leaf != nullptr) subjects.push_back(subject_of(leaf));
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain) && subjects.size() < kMaxChainSubjects; ++i) {
    X509* cert = sk_X509_value(chain, i);
    if (leaf != nullptr && X509_cmp(cert, leaf) == 0) continue;
    subjects.push_back(subject_of(cert));
  }
  return subjects;
}

void report_tls(SSL* ssl, ipc::S2sStream& out) {
  if (ssl == nullptr) return;
  out.set_tls_version(SSL_get_version(ssl));
  out.set_cipher(SSL_get_cipher_name(ssl));
  for (std::string& subject : chain_subjects(SSL_get0_peer_certificate(ssl), SSL_get_peer_cert_chain(ssl)))
    out.add_chain(std::move(subject));
}

}  // namespace xmppd::s2s
