#include "router/modules/vcard_photo.h"

#include <openssl/evp.h>

#include <cctype>

#include "common/base64.h"

namespace xmppd::router {
namespace {

constexpr std::string_view kVcardNs = "vcard-temp";

}  // namespace

std::string hex_sha1(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::string without_space(std::string_view text) {
  std::string out;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  return out;
}

std::optional<std::optional<VcardPhoto>> vcard_photo(const xml::Element& vcard, std::string& why) {
  const xml::Element* photo = vcard.child(kVcardNs, "PHOTO");
  const xml::Element* binval = photo != nullptr ? photo->child(kVcardNs, "BINVAL") : nullptr;
  if (binval == nullptr) return std::optional<VcardPhoto>();
  VcardPhoto out;
  out.base64 = without_space(binval->text());
  std::optional<std::string> bytes = base64_decode(out.base64);
  if (!bytes || bytes->empty()) {
    why = "The PHOTO's BINVAL is not base64";
    return std::nullopt;
  }
  const xml::Element* type = photo->child(kVcardNs, "TYPE");
  out.type = type != nullptr ? type->text() : "";
  out.hash = hex_sha1(*bytes);
  out.bytes = bytes->size();
  return std::optional<VcardPhoto>(std::move(out));
}

}  // namespace xmppd::router
