// The bound resources of local users: who is online, where stanzas for them go.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace xmppd::router {

class ClientStream;

class LocalSessions {
 public:
  // Binds `resource` for `bare`; a stream already holding it is returned so that the
  // caller can end it (RFC 6120 §7.7.2.2: the newest session wins).
  ClientStream* bind(const std::string& bare, const std::string& resource, ClientStream& stream);
  void unbind(const std::string& bare, const std::string& resource, const ClientStream& stream);
  ClientStream* find(const std::string& bare, const std::string& resource) const;
  std::vector<ClientStream*> resources(const std::string& bare) const;
  // Every bound session, by bare JID then resource.
  std::vector<ClientStream*> all() const;
  std::size_t size() const { return count_; }
  // How many resources `bare` has bound.
  std::size_t count(const std::string& bare) const;

 private:
  std::map<std::string, std::map<std::string, ClientStream*>> by_bare_;
  std::size_t count_ = 0;
};

}  // namespace xmppd::router
