// A minimal XMPP client for the integration tests: STARTTLS, then SCRAM-SHA-256-PLUS or
// SCRAM-SHA-1-PLUS with tls-exporter channel binding (which Python's ssl cannot export).
// Exit status 0 when the server accepts, 1 when it refuses, 2 on any other problem.
//
//   scram_plus_client HOST PORT DOMAIN CAFILE USER PASSWORD MECHANISM [corrupt | tls-server-end-point]
//
// tls-server-end-point (RFC 5929) binds to the hash of the server's certificate instead.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "auth-helper/scram.h"

namespace {

using namespace xmppd::auth;

std::string g_plain_buffer;

std::string read_until(int fd, SSL* ssl, const std::string& marker) {
  std::string data;
  char buf[4096];
  while (data.find(marker) == std::string::npos) {
    int n = ssl ? SSL_read(ssl, buf, sizeof buf) : static_cast<int>(read(fd, buf, sizeof buf));
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  return data;
}

void send(int fd, SSL* ssl, const std::string& s) {
  if (ssl)
    SSL_write(ssl, s.data(), static_cast<int>(s.size()));
  else if (write(fd, s.data(), s.size()) < 0)
    std::exit(2);
}

std::string between(const std::string& s, const std::string& open, const std::string& close) {
  std::size_t a = s.find(open);
  if (a == std::string::npos) return {};
  a = s.find('>', a) + 1;
  std::size_t b = s.find(close, a);
  return b == std::string::npos ? std::string() : s.substr(a, b - a);
}

std::string header(const std::string& domain) {
  return "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
         "to='" + domain + "' version='1.0'>";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 8) return 2;
  std::string host = argv[1], domain = argv[3], cafile = argv[4], user = argv[5], password = argv[6];
  std::string mechanism = argv[7];
  const std::string mode = argc > 8 ? argv[8] : "";
  const bool corrupt = mode == "corrupt";
  const bool end_point = mode == "tls-server-end-point";
  ScramHash hash = mechanism.find("SHA-256") != std::string::npos ? ScramHash::kSha256 : ScramHash::kSha1;

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 2;
  send(fd, nullptr, header(domain));
  read_until(fd, nullptr, "</stream:features>");
  send(fd, nullptr, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
  if (read_until(fd, nullptr, "/>").find("proceed") == std::string::npos) return 2;

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, cafile.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, domain.c_str());
  if (SSL_connect(ssl) != 1) return 2;
  send(fd, ssl, header(domain));
  std::string features = read_until(fd, ssl, "</stream:features>");
  if (features.find("<mechanism>" + mechanism + "</mechanism>") == std::string::npos) return 2;

  unsigned char exporter[32];
  static const char kLabel[] = "EXPORTER-Channel-Binding";
  if (SSL_export_keying_material(ssl, exporter, sizeof exporter, kLabel, sizeof kLabel - 1, nullptr, 0, 1) != 1)
    return 2;
  std::string binding(reinterpret_cast<char*>(exporter), sizeof exporter);
  if (end_point) {
    if (features.find("<channel-binding type='tls-server-end-point'/>") == std::string::npos) return 2;
    X509* cert = SSL_get0_peer_certificate(ssl);
    int md_nid = NID_undef;
    if (cert == nullptr || X509_get_signature_info(cert, &md_nid, nullptr, nullptr, nullptr) != 1) return 2;
    const EVP_MD* md = md_nid == NID_md5 || md_nid == NID_sha1 ? EVP_sha256() : EVP_get_digestbynid(md_nid);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned size = 0;
    if (md == nullptr || X509_digest(cert, md, digest, &size) != 1) return 2;
    binding.assign(reinterpret_cast<char*>(digest), size);
  }
  if (corrupt) binding[0] ^= 1;

  unsigned char nonce_bytes[18];
  RAND_bytes(nonce_bytes, sizeof nonce_bytes);
  std::string nonce = base64_encode(std::string(reinterpret_cast<char*>(nonce_bytes), sizeof nonce_bytes));
  std::string gs2 = end_point ? "p=tls-server-end-point,," : "p=tls-exporter,,";
  std::string client_first_bare = "n=" + user + ",r=" + nonce;
  send(fd, ssl, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='" + mechanism + "'>" +
                    base64_encode(gs2 + client_first_bare) + "</auth>");
  std::string challenge_xml = read_until(fd, ssl, "</");
  auto server_first = base64_decode(between(challenge_xml, "<challenge", "</challenge>"));
  if (!server_first) return challenge_xml.find("failure") != std::string::npos ? 1 : 2;
  // r=...,s=...,i=...
  std::string r, s;
  std::uint32_t iterations = 0;
  for (std::size_t pos = 0; pos < server_first->size();) {
    std::size_t comma = server_first->find(',', pos);
    std::string part = server_first->substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (part.rfind("r=", 0) == 0) r = part.substr(2);
    if (part.rfind("s=", 0) == 0) s = part.substr(2);
    if (part.rfind("i=", 0) == 0) iterations = static_cast<std::uint32_t>(std::stoul(part.substr(2)));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  auto salt = base64_decode(s);
  if (!salt || r.rfind(nonce, 0) != 0) return 2;
  std::string final_without_proof = "c=" + base64_encode(gs2 + binding) + ",r=" + r;
  std::string auth_message = client_first_bare + "," + *server_first + "," + final_without_proof;
  SecretBytes salted = salted_password(hash, password, *salt, iterations);
  SecretBytes ckey = client_key(hash, salted.view());
  std::string proof = client_proof(hash, ckey.view(), auth_message);
  send(fd, ssl, "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>" +
                    base64_encode(final_without_proof + ",p=" + base64_encode(proof)) + "</response>");
  std::string outcome;
  char buf[4096];
  while (outcome.find("</success>") == std::string::npos && outcome.find("</failure>") == std::string::npos &&
         !(outcome.size() > 2 && outcome.compare(outcome.size() - 2, 2, "/>") == 0)) {
    int n = SSL_read(ssl, buf, sizeof buf);
    if (n <= 0) break;
    outcome.append(buf, static_cast<std::size_t>(n));
  }
  std::printf("%s\n", outcome.c_str());
  if (outcome.find("<success") == std::string::npos) return 1;
  // The server proves it knew the password too (v=).
  auto final_message = base64_decode(between(outcome, "<success", "</success>"));
  std::string expected = "v=" + base64_encode(server_signature(hash, server_key(hash, salted.view()), auth_message));
  return final_message && *final_message == expected ? 0 : 2;
}
