// A RoomHost for the rooms' unit tests and fuzz target: it keeps what the room sends, in
// order, and lets the test set the time, the options and the service admins. It is the
// service's role played in memory, not a stand-in for another process.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "router/muc/room.h"

namespace xmppd::router::muc {

class TestRoomHost final : public RoomHost {
 public:
  TestRoomHost() {
    options_.set_domain("conference.example.org");
    options_.set_room_default_history_length(20);
    options_.set_max_history_messages(20);
    options_.set_max_occupants(200);
    options_.set_max_nick_length(64);
    options_.set_max_subject_length(1024);
    options_.set_max_char_count(5664);
    options_.set_max_line_count(23);
    options_.set_event_rate(0);  // no rate limit unless a test sets one
    options_.set_burst_factor(6);
    options_.set_max_form_bytes(64 * 1024);
    options_.set_room_locking(true);
  }

  MucOptions& mutable_options() { return options_; }
  std::vector<std::string>& admins() { return admins_; }
  void set_now_ms(std::int64_t now) { now_ms_ = now; }
  // What the room sent since the last take(), oldest first.
  std::vector<xml::Element> take() { return std::exchange(sent_, {}); }
  int changes = 0;       // RoomHost::changed calls
  bool room_gone = false;
  int room_iqs = 0;      // RoomHost::room_iq calls (the service's MAM and vCard)

  const MucOptions& options() const override { return options_; }
  void send(xml::Element stanza) override { sent_.push_back(std::move(stanza)); }
  bool is_service_admin(std::string_view bare) const override {
    return std::find(admins_.begin(), admins_.end(), bare) != admins_.end();
  }
  std::int64_t now_ms() const override { return now_ms_; }
  void changed(Room&) override { ++changes; }
  void gone(Room&, const xml::Element*) override { room_gone = true; }
  void archive(Room&, xml::Element&, const std::string&) override {}
  bool room_iq(Room&, const xml::Element&, const xml::Element&, const xmpp::Jid&) override {
    ++room_iqs;
    return false;
  }
  void room_features(const Room&, std::vector<std::string>&) const override {}
  std::string_view occupant_id_key() const override { return "0123456789abcdef0123456789abcdef"; }

 private:
  MucOptions options_;
  std::vector<std::string> admins_;
  std::int64_t now_ms_ = 1'700'000'000'000;
  std::vector<xml::Element> sent_;
};

}  // namespace xmppd::router::muc
