// XEP-0363 upload slots as the router grants them and the HTTP process checks them: what a
// slot says, its signed token (the Authorization: Bearer value of the PUT), and the checks
// both sides apply to what a client names (file names, content types).
//
// The router signs, the HTTP process verifies, under one key the parent generates and gives
// both (RouterSettings.slot_key, HttpSettings.slot_key); the HTTP process so needs nothing
// from the router to accept an upload. Trust: verify() and the checks take any bytes (a
// client's header or path); only what they return is trusted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xmppd {

struct UploadSlot {
  std::string id;            // 128 random bits, base64url without padding (22 characters)
  std::string service;       // the http_file_share component's domain
  std::string uploader;      // bare JID
  std::string filename;      // as the client asked (valid_upload_filename)
  std::uint64_t size = 0;    // bytes; the PUT's Content-Length must equal it
  std::string content_type;  // valid_content_type; application/octet-stream when none was given
  std::int64_t expires = 0;  // unix seconds: the PUT must start before
  bool operator==(const UploadSlot&) const = default;
};

// Seconds a slot is good for after it is granted (Prosody's 300).
inline constexpr std::int64_t kUploadSlotSeconds = 300;
inline constexpr std::size_t kMaxUploadFilenameBytes = 255;

// A fresh slot id (RAND_bytes).
std::string new_upload_slot_id();
bool valid_upload_slot_id(std::string_view id);

// A name safe to store and to put in a URL path segment: UTF-8, 1..255 bytes, no '/', '\\',
// NUL or other control character, not "." or "..".
bool valid_upload_filename(std::string_view name);
// A MIME type "type/subtype" (RFC 6838 restricted names), lowercased by the caller or not;
// parameters (";charset=...") are refused: the type is matched and echoed in headers.
bool valid_content_type(std::string_view type);
// Whether `type` matches one of `patterns` ("image/png", "image/*", "*"); an empty list allows any.
bool content_type_allowed(std::string_view type, const std::vector<std::string>& patterns);

// The slot's fields as the token carries them (one per line), and their strict inverse: the
// HTTP process keeps them beside a stored file.
std::string upload_slot_fields(const UploadSlot& slot);
std::optional<UploadSlot> parse_upload_slot_fields(std::string_view text);

// The token: "v1." base64url(fields) "." base64url(HMAC-SHA-256(key, fields)).
std::string sign_upload_slot(const UploadSlot& slot, std::string_view key);

enum class SlotRefusal { kNone, kMalformed, kBadSignature, kBadFields };
struct VerifiedSlot {
  std::optional<UploadSlot> slot;
  SlotRefusal refusal = SlotRefusal::kNone;
};
// The slot `token` carries when it is well-formed and signed under `key` (compared in
// constant time), else why not. Expiry is the caller's check (it knows the time).
VerifiedSlot verify_upload_slot(std::string_view token, std::string_view key);
std::string_view slot_refusal_text(SlotRefusal refusal);

// RFC 3986 percent-encoding of one path segment (unreserved characters kept), and its strict
// inverse (nullopt on a bad escape).
std::string percent_encode_segment(std::string_view text);
std::optional<std::string> percent_decode(std::string_view text);

// Makes sure OpenSSL's HMAC is loaded, before a process enters its sandbox.
bool prepare_upload_slots();

}  // namespace xmppd
