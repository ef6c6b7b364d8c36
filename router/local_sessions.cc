#include "router/local_sessions.h"

namespace xmppd::router {

ClientStream* LocalSessions::bind(const std::string& bare, const std::string& resource, ClientStream& stream) {
  ClientStream*& slot = by_bare_[bare][resource];
  ClientStream* previous = slot;
  if (previous == nullptr) ++count_;
  slot = &stream;
  return previous;
}

void LocalSessions::unbind(const std::string& bare, const std::string& resource, const ClientStream& stream) {
  auto user = by_bare_.find(bare);
  if (user == by_bare_.end()) return;
  auto it = user->second.find(resource);
  // A stream replaced by a newer one must not unbind its successor.
  if (it == user->second.end() || it->second != &stream) return;
  user->second.erase(it);
  --count_;
  if (user->second.empty()) by_bare_.erase(user);
}

ClientStream* LocalSessions::find(const std::string& bare, const std::string& resource) const {
  auto user = by_bare_.find(bare);
  if (user == by_bare_.end()) return nullptr;
  auto it = user->second.find(resource);
  return it == user->second.end() ? nullptr : it->second;
}

std::size_t LocalSessions::count(const std::string& bare) const {
  auto user = by_bare_.find(bare);
  return user == by_bare_.end() ? 0 : user->second.size();
}

std::vector<ClientStream*> LocalSessions::all() const {
  std::vector<ClientStream*> out;
  out.reserve(count_);
  for (const auto& [bare, streams] : by_bare_)
    for (const auto& [resource, stream] : streams) out.push_back(stream);
  return out;
}

std::vector<ClientStream*> LocalSessions::resources(const std::string& bare) const {
  std::vector<ClientStream*> out;
  auto user = by_bare_.find(bare);
  if (user != by_bare_.end())
    for (const auto& [resource, stream] : user->second) out.push_back(stream);
  return out;
}

}  // namespace xmppd::router
