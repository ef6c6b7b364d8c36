// Admission of accepted connections (c2s and inbound s2s): how many one source address (an
// IPv4 address or IPv6 /64: common/address_prefix.h) may hold open, how many of those may
// still be unauthenticated, and how many the process holds in all. Trusts nothing of the
// peer but its address, as the kernel reported it.
#pragma once

#include <sys/resource.h>

#include <cstddef>
#include <map>
#include <string>

namespace xmppd::stream {

// The global cap when none is configured: well below the descriptor limit, leaving room for
// the stores, the IPC channels, outbound s2s connections and whatever the loop opens.
std::size_t default_connection_cap(rlim_t descriptor_limit);
// The same, from this process's RLIMIT_NOFILE.
std::size_t default_connection_cap();

// The limits come from xmppd.conf through the parent's Configure message, whose defaults
// are config/options.cc's; a process applies them before it gets any listener. These
// initialisers are only a fallback for limits nobody configured, strict rather than none.
struct ConnectionLimitSettings {
  std::size_t per_address = 256;                // 0: no limit
  std::size_t unauthenticated_per_address = 32;  // 0: no limit
  std::size_t total = 0;                       // 0: no limit
};

class ConnectionLimits {
 public:
  enum class Verdict { kAdmitted, kTotal, kPerAddress, kUnauthenticated };

  // One admitted connection's share; given back when destroyed. Must not outlive the limits.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept { *this = std::move(other); }
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { release(); }
    // The stream authenticated: it no longer counts as unauthenticated.
    void authenticated();
    void release();
    const std::string& key() const { return key_; }

   private:
    friend class ConnectionLimits;
    ConnectionLimits* owner_ = nullptr;
    std::string key_;
    bool unauthenticated_ = false;
  };

  explicit ConnectionLimits(ConnectionLimitSettings settings = {}) : settings_(settings) {}
  ConnectionLimits(const ConnectionLimits&) = delete;
  ConnectionLimits& operator=(const ConnectionLimits&) = delete;

  // Applies to new connections; open ones keep their tickets.
  void configure(ConnectionLimitSettings settings) { settings_ = settings; }
  const ConnectionLimitSettings& settings() const { return settings_; }
  // On kAdmitted, `ticket` holds the connection's share.
  Verdict admit(const std::string& key, Ticket& ticket);

  std::size_t total() const { return total_; }
  std::size_t open(const std::string& key) const;
  std::size_t unauthenticated(const std::string& key) const;
  std::size_t addresses() const { return per_key_.size(); }

 private:
  struct Counts {
    std::size_t open = 0;
    std::size_t unauthenticated = 0;
  };
  void give_back(const std::string& key, bool unauthenticated);
  void authenticated(const std::string& key);

  ConnectionLimitSettings settings_;
  std::size_t total_ = 0;
  std::map<std::string, Counts> per_key_;  // only addresses with open connections
};

const char* describe(ConnectionLimits::Verdict verdict);

}  // namespace xmppd::stream
