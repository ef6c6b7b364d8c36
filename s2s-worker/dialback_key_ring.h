// The s2s worker's dialback keys: the current and the previous epoch's keys, as the parent
// sends them (daemon/dialback_epochs.h), never the long-term secret. Keys are made and checked
// with xmpp/dialback_key.h.
#pragma once

#include <string>
#include <string_view>

namespace xmppd::s2s {

// The worker's side: dialback keys are made with the current epoch's key, and a received key
// is accepted if it was made with the current or the previous one (a key handed out just
// before the epoch changed is still confirmed), never an older one.
class DialbackKeyRing {
 public:
  DialbackKeyRing() = default;
  DialbackKeyRing(const DialbackKeyRing&) = delete;
  DialbackKeyRing& operator=(const DialbackKeyRing&) = delete;
  ~DialbackKeyRing();  // wipes the keys

  // Replaces both keys, wiping the old ones. `previous` may be empty (the first epoch).
  void set(std::string current, std::string previous);
  bool empty() const { return current_.empty(); }

  // dialback_key() with the current epoch's key; "" before set().
  std::string make(std::string_view receiving, std::string_view originating, std::string_view stream_id) const;
  // Whether `received_key` is the key of these inputs under the current or the previous epoch.
  bool matches(std::string_view receiving, std::string_view originating, std::string_view stream_id,
               std::string_view received_key) const;

 private:
  static void wipe(std::string& key);
  std::string current_, previous_;
};

}  // namespace xmppd::s2s
