// The inline photo of a vcard-temp <vCard/> (XEP-0054 PHOTO/BINVAL) and its XEP-0153 hash:
// what the vcard_legacy module keeps beside a vCard and puts in presence. Pure, apart from the
// router, so that xmppctl import prosody computes the same hash for the vCards it brings over.
// The vCard comes from a client (or a Prosody data file): nothing in it is trusted.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "xml/element.h"

namespace xmppd::router {

struct VcardPhoto {
  std::string type;    // the PHOTO's TYPE, "" if none
  std::string base64;  // BINVAL without whitespace
  std::string hash;    // hex SHA-1 of the decoded bytes (XEP-0153)
  std::size_t bytes = 0;
};

// nullopt with `why` when the BINVAL is not base64 (or empty); an empty optional inside when
// the vCard has no inline photo (none, or an EXTVAL: no data to hash).
std::optional<std::optional<VcardPhoto>> vcard_photo(const xml::Element& vcard, std::string& why);

// The lowercase hex SHA-1 of `bytes`, as XEP-0153 and XEP-0084 name an image.
std::string hex_sha1(std::string_view bytes);

// `text` without whitespace: BINVAL may be folded over lines (RFC 2426 §2.4.1), and
// base64_decode takes none.
std::string without_space(std::string_view text);

}  // namespace xmppd::router
