// Full TLS 1.3 handshakes per second with the server's private key in-process, against the
// same handshakes with the key in a real, sandboxed xmppd-tls answering over a socketpair:
// the price of key isolation. Client and server run in this process over a memory BIO pair,
// so the figures include the client's work too; only the signature location differs.
//
//   XMPPD_BUILD_DIR=build build/bench/handshake_bench [handshakes per case]
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/support/test_certificates.h"
#include "tests/support/tls_helper_process.h"
#include "tls/helper_link.h"
#include "tls/remote_key.h"
#include "tls/server_contexts.h"

namespace {

using namespace xmppd;

bool handshake_once(SSL_CTX* server_ctx, SSL_CTX* client_ctx) {
  SSL* client = SSL_new(client_ctx);
  SSL* server = SSL_new(server_ctx);
  BIO *a, *b;
  BIO_new_bio_pair(&a, 0, &b, 0);
  SSL_set_bio(client, a, a);
  SSL_set_bio(server, b, b);
  SSL_set_connect_state(client);
  SSL_set_accept_state(server);
  bool client_done = false, server_done = false;
  for (int i = 0; i < 20 && !(client_done && server_done); ++i) {
    if (!client_done) client_done = SSL_do_handshake(client) == 1;
    if (!server_done) server_done = SSL_do_handshake(server) == 1;
  }
  SSL_free(client);
  SSL_free(server);
  return client_done && server_done;
}

double cpu_seconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void run(const char* label, SSL_CTX* server_ctx, SSL_CTX* client_ctx, int count) {
  for (int i = 0; i < 20; ++i) handshake_once(server_ctx, client_ctx);  // warm-up
  double cpu0 = cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  int ok = 0;
  for (int i = 0; i < count; ++i) ok += handshake_once(server_ctx, client_ctx);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = cpu_seconds() - cpu0;
  std::printf("%-28s %6d ok  %8.0f handshakes/s  %7.1f us/handshake  (this process: %.0f%% CPU)\n", label, ok,
              count / seconds, 1e6 * seconds / count, 100.0 * cpu / seconds);
}

}  // namespace

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 2000;
  if (!tls::init_remote_keys()) return 1;
  char tmpl[] = "/tmp/xmppd-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  SSL_CTX* client_ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(client_ctx, TLS1_3_VERSION);
  SSL_CTX_set_session_cache_mode(client_ctx, SSL_SESS_CACHE_OFF);

  for (const char* kind : {"ec", "ed25519", "rsa"}) {
    testing::TestCertificate cert;
    if (!testing::make_test_certificate(dir, std::string(kind) + ".bench", kind, cert)) return 1;

    tls::SslCtxPtr local(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_use_certificate(local.get(), cert.certificate);
    SSL_CTX_use_PrivateKey(local.get(), cert.key);
    SSL_CTX_set_num_tickets(local.get(), 0);
    run((std::string(kind) + ", key in-process").c_str(), local.get(), client_ctx, count);

    testing::TlsHelperProcess helper;
    std::string error;
    if (!helper.start(testing::build_path("tls-helper/xmppd-tls"),
                      {{std::string(kind) + ".bench", ipc::SERVICE_C2S, cert.certificate_path, cert.key_path}},
                      error)) {
      std::fprintf(stderr, "tls helper: %s\n", error.c_str());
      return 1;
    }
    struct event_base* base = event_base_new();
    std::uint32_t key_id = 0;
    tls::HelperLink link(
        base, helper.link(ipc::ROLE_ROUTER),
        [&](const ipc::CertificateSet& set) { key_id = set.certificates_size() ? set.certificates(0).key_id() : 0; },
        [](bool, std::string_view) {});
    for (int i = 0; i < 100 && key_id == 0; ++i) {
      usleep(10000);
      event_base_loop(base, EVLOOP_NONBLOCK);
    }
    tls::SslCtxPtr remote(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_use_certificate(remote.get(), cert.certificate);
    EVP_PKEY* key = tls::make_remote_key(cert.certificate, key_id);
    SSL_CTX_use_PrivateKey(remote.get(), key);
    EVP_PKEY_free(key);
    SSL_CTX_set_num_tickets(remote.get(), 0);
    run((std::string(kind) + ", key in xmppd-tls").c_str(), remote.get(), client_ctx, count);
    event_base_free(base);
  }
  SSL_CTX_free(client_ctx);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}
