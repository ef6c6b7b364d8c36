#include "router/modules/pep_caps.h"

#include <algorithm>
#include <utility>

#include "router/modules/caps.h"
#include "router/modules/pep_node.h"

namespace xmppd::router::pep {
namespace {

constexpr std::string_view kInfoNs = "http://jabber.org/protocol/disco#info";
constexpr std::string_view kNotify = "+notify";
// Clients followed at once (a bound against a peer that sends presences of ever new
// resources), and verification strings cached.
constexpr std::size_t kMaxClients = 50000;
constexpr std::size_t kMaxCache = 2000;

}  // namespace

void Interests::presence(const xml::Element& presence, const xmpp::Jid& from, const std::string& owner) {
  const xml::Element* caps = presence.attribute_or("type") == "unavailable" ? nullptr : presence.child(kCapsNs, "c");
  std::string ver = caps != nullptr ? caps->attribute_or("ver") : std::string();
  auto bare = clients_.find(from.bare());
  Client* client = nullptr;
  if (bare != clients_.end()) {
    auto it = bare->second.find(from.resource());
    if (it != bare->second.end()) client = &it->second;
  }
  // Unavailable, or no caps (XEP-0115 §4 asks for a 'hash'; legacy caps are not followed).
  if (caps == nullptr || ver.empty() || caps->attribute("hash") == nullptr) {
    if (client == nullptr) return;
    client->owners.erase(owner);
    if (client->owners.empty()) {
      bare->second.erase(from.resource());
      if (bare->second.empty()) clients_.erase(bare);
      --count_;
    }
    return;
  }
  if (client == nullptr) {
    if (count_ >= kMaxClients) return;
    client = &clients_[from.bare()][from.resource()];
    ++count_;
  }
  if (client->ver == ver && client->owners.count(owner) > 0) return;  // nothing new
  bool known = client->ver == ver && client->nodes != nullptr;
  if (client->ver != ver) {
    client->ver = ver;
    auto cached = cache_.find(ver);
    client->nodes = cached != cache_.end() ? cached->second : nullptr;
    known = client->nodes != nullptr;
  }
  client->owners.insert(owner);
  if (known) {
    learnt_(from, owner);
    return;
  }
  if (!querying_.insert(ver).second) return;  // asked already: its answer serves this client too
  xml::Element iq("jabber:client", "iq");
  iq.set_attribute("from", owner);
  iq.set_attribute("to", from.full());
  xml::Element query(kInfoNs, "query");
  query.set_attribute("node", caps->attribute_or("node") + "#" + ver);
  iq.add_child(std::move(query));
  std::string hash = caps->attribute_or("hash");
  std::string full = from.full();
  server_.request(std::move(iq), [this, ver, hash, full](const xml::Element* reply) { resolved(ver, hash, reply, full); });
}

void Interests::resolved(const std::string& ver, const std::string& hash, const xml::Element* reply,
                         const std::string& full) {
  querying_.erase(ver);
  const xml::Element* query = reply != nullptr && reply->attribute_or("type") == "result"
                                  ? reply->child(kInfoNs, "query") : nullptr;
  auto nodes = std::make_shared<std::set<std::string, std::less<>>>();
  if (query != nullptr) {
    for (const xml::Element* f : query->children()) {
      std::string var = f->is(kInfoNs, "feature") ? f->attribute_or("var") : std::string();
      if (var.size() > kNotify.size() && var.ends_with(kNotify)) nodes->insert(var.substr(0, var.size() - kNotify.size()));
    }
  }
  // A verification string that the answer proves serves every client that sends it; any
  // other answer only the client asked (XEP-0115 §5.4: a forged one poisons nothing).
  bool verified = query != nullptr && hash == "sha-1" && caps_ver(*query) == ver;
  if (verified) {
    if (cache_.size() >= kMaxCache) cache_.erase(cache_.begin());
    cache_.emplace(ver, nodes);
  }
  std::vector<std::pair<xmpp::Jid, std::string>> due;
  for (auto& [bare, resources] : clients_) {
    for (auto& [resource, client] : resources) {
      if (client.ver != ver || client.nodes != nullptr) continue;
      auto jid = xmpp::Jid::parse(bare + "/" + resource);
      if (!jid) continue;
      if (!verified && jid->full() != full) {
        // Not resolved by this answer: the next presence of the client asks again, rather
        // than hit "nothing new" with no nodes for as long as it stays.
        client.ver.clear();
        continue;
      }
      client.nodes = nodes;
      for (const std::string& owner : client.owners) due.emplace_back(*jid, owner);
    }
  }
  for (const auto& [jid, owner] : due) learnt_(jid, owner);
}

void Interests::forget(const xmpp::Jid& full) {
  auto bare = clients_.find(full.bare());
  if (bare == clients_.end()) return;
  if (bare->second.erase(full.resource()) > 0) --count_;
  if (bare->second.empty()) clients_.erase(bare);
}

void Interests::forget_owner(const std::string& owner) {
  for (auto bare = clients_.begin(); bare != clients_.end();) {
    for (auto it = bare->second.begin(); it != bare->second.end();) {
      it->second.owners.erase(owner);
      if (it->second.owners.empty()) {
        it = bare->second.erase(it);
        --count_;
      } else {
        ++it;
      }
    }
    bare = bare->second.empty() ? clients_.erase(bare) : std::next(bare);
  }
}

const Interests::Client* Interests::find(const xmpp::Jid& full) const {
  auto bare = clients_.find(full.bare());
  if (bare == clients_.end()) return nullptr;
  auto it = bare->second.find(full.resource());
  return it == bare->second.end() ? nullptr : &it->second;
}

bool Interests::wants(const xmpp::Jid& full, std::string_view node, const std::string* owner) const {
  const Client* c = find(full);
  return c != nullptr && c->nodes != nullptr && (owner == nullptr || c->owners.count(*owner) > 0) &&
         c->nodes->count(node) > 0;
}

std::vector<xmpp::Jid> Interests::wanting(const std::string& bare, std::string_view node, const std::string& owner) const {
  std::vector<xmpp::Jid> out;
  auto it = clients_.find(bare);
  if (it == clients_.end()) return out;
  for (const auto& [resource, c] : it->second) {
    if (c.nodes == nullptr || c.owners.count(owner) == 0 || c.nodes->count(node) == 0) continue;
    if (auto jid = xmpp::Jid::parse(bare + "/" + resource)) out.push_back(*jid);
  }
  return out;
}

}  // namespace xmppd::router::pep
