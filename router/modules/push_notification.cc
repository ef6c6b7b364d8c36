// cloud_notify's pure parts (XEP-0357): see push_notification.h. Everything here reads a
// client's payload or a stored value, and trusts neither.
#include "router/modules/push_notification.h"

#include <utility>

#include "xml/fragment.h"
#include "xmpp/jid.h"
#include "xmpp/namespaces.h"

namespace xmppd::router::push {
namespace {

constexpr std::string_view kDataNs = "jabber:x:data";
constexpr std::string_view kPubsubNs = "http://jabber.org/protocol/pubsub";
constexpr std::string_view kSummary = "urn:xmpp:push:summary";

Refusal bad_request(std::string text) { return {"modify", "bad-request", std::move(text)}; }

// The value of a form's field, or null.
const xml::Element* field(const xml::Element& form, std::string_view var) {
  for (const xml::Element* f : form.children())
    if (f->is(kDataNs, "field") && f->attribute_or("var") == var) return f;
  return nullptr;
}

void add_field(xml::Element& form, std::string_view var, std::string_view value) {
  xml::Element f(kDataNs, "field");
  f.set_attribute("var", std::string(var));
  xml::Element v(kDataNs, "value");
  v.add_text(value);
  f.add_child(std::move(v));
  form.add_child(std::move(f));
}

// XEP-0357 §5: the publish options are a submitted pubsub#publish-options form (XEP-0004
// §3.4: a hidden FORM_TYPE, which a form may also leave out).
std::optional<Refusal> check_options(const xml::Element& enable, std::optional<xml::Element>& out) {
  for (const xml::Element* c : enable.children()) {
    if (!c->is(kDataNs, "x")) continue;
    if (out) return bad_request("More than one publish-options form");
    std::string type = c->attribute_or("type", "submit");
    if (type != "submit") return bad_request("The publish options must be a form of type 'submit'");
    if (const xml::Element* form_type = field(*c, "FORM_TYPE")) {
      const xml::Element* value = form_type->child(kDataNs, "value");
      if (value == nullptr || value->text() != kPublishOptions)
        return bad_request("The publish options' FORM_TYPE must be " + std::string(kPublishOptions));
    }
    out = *c;
  }
  return std::nullopt;
}

}  // namespace

std::string Registration::serialize() const {
  xml::Element r(kPushNs, "registration");
  r.set_attribute("jid", jid);
  r.set_attribute("node", node);
  if (options) r.add_child(*options);
  std::string out;
  r.serialize(out);
  return out;
}

std::optional<Registration> Registration::parse(std::string_view stored) {
  auto element = xml::parse_fragment(stored, {}, kMaxRegistrationBytes * 2);
  if (!element || !element->is(kPushNs, "registration")) return std::nullopt;
  const std::string* jid = element->attribute("jid");
  if (jid == nullptr || !xmpp::Jid::parse(*jid)) return std::nullopt;
  Registration r{*jid, element->attribute_or("node"), std::nullopt};
  if (const xml::Element* x = element->child(kDataNs, "x")) r.options = *x;
  return r;
}

EnableOutcome read_enable(const xml::Element& enable, const std::string& account,
                          const std::function<bool(std::string_view)>& is_local) {
  const std::string* jid_text = enable.attribute("jid");
  if (jid_text == nullptr || jid_text->empty()) return {std::nullopt, bad_request("Missing jid")};
  auto jid = xmpp::Jid::parse(*jid_text);
  if (!jid) return {std::nullopt, bad_request("The jid '" + *jid_text + "' is not a valid JID")};
  if (jid->bare() == account) return {std::nullopt, bad_request("JID must be different from ours")};
  // Another account's PEP service is not this user's to publish to.
  if (jid->has_local() && is_local(jid->domain()))
    return {std::nullopt, {"cancel", "not-allowed", "The push service is another user's account"}};
  const std::string* node = enable.attribute("node");
  if (node != nullptr && node->empty()) return {std::nullopt, bad_request("An empty node")};
  Registration r{jid->full(), node ? *node : std::string(), std::nullopt};
  if (auto refusal = check_options(enable, r.options)) return {std::nullopt, *refusal};
  if (r.serialize().size() > kMaxRegistrationBytes)
    return {std::nullopt, {"modify", "not-acceptable", "The registration is too large"}};
  return {std::move(r), {}};
}

std::optional<DisableRequest> read_disable(const xml::Element& disable, Refusal& refusal) {
  const std::string* jid_text = disable.attribute("jid");
  if (jid_text == nullptr || jid_text->empty()) {
    refusal = bad_request("Missing jid");
    return std::nullopt;
  }
  auto jid = xmpp::Jid::parse(*jid_text);
  if (!jid) {
    refusal = bad_request("The jid '" + *jid_text + "' is not a valid JID");
    return std::nullopt;
  }
  DisableRequest out{jid->full(), std::nullopt};
  if (const std::string* node = disable.attribute("node"); node != nullptr && !node->empty()) out.node = *node;
  return out;
}

bool matches(const DisableRequest& disable, const Registration& registration) {
  return registration.jid == disable.jid && (!disable.node || *disable.node == registration.node);
}

bool worth_pushing(const xml::Element& message) {
  if (message.name() != "message") return false;
  std::string type = message.attribute_or("type", "normal");
  if (type == "headline" || type == "error") return false;
  for (const xml::Element* c : message.children()) {
    // Encrypted payloads say nothing of their content: as Prosody, they count.
    if (c->is("eu.siacs.conversations.axolotl", "encrypted") || c->is("urn:xmpp:omemo:0", "encrypted") ||
        c->is("urn:xmpp:omemo:2", "encrypted") || c->is("jabber:x:encrypted", "x") ||
        c->is("urn:xmpp:openpgp:0", "openpgp") || c->is("urn:xmpp:jingle-message:0", "propose"))
      return true;
  }
  if (type == "groupchat" && message.child(xmpp::kClientNs, "subject") != nullptr) return false;
  const xml::Element* body = message.child(xmpp::kClientNs, "body");
  return body != nullptr && !body->text().empty();
}

bool push_on_hibernation(bool registered, std::size_t waiting) { return registered && waiting > 0; }

xml::Element notification(const Registration& registration, const std::string& account, const xml::Element& message,
                          const PushOptions& options) {
  xml::Element summary(kDataNs, "x");
  summary.set_attribute("type", "submit");
  add_field(summary, "FORM_TYPE", kSummary);
  add_field(summary, "message-count", "1");
  if (const std::string* from = message.attribute("from"); options.with_sender && from != nullptr)
    add_field(summary, "last-message-sender", *from);
  if (options.with_body)
    if (const xml::Element* body = message.child(xmpp::kClientNs, "body"))
      add_field(summary, "last-message-body", body->text());
  xml::Element note(kPushNs, "notification");
  note.add_child(std::move(summary));
  xml::Element item(kPubsubNs, "item");
  item.add_child(std::move(note));
  xml::Element publish(kPubsubNs, "publish");
  if (!registration.node.empty()) publish.set_attribute("node", registration.node);
  publish.add_child(std::move(item));
  xml::Element pubsub(kPubsubNs, "pubsub");
  pubsub.add_child(std::move(publish));
  if (registration.options) {
    xml::Element publish_options(kPubsubNs, "publish-options");
    publish_options.add_child(*registration.options);
    pubsub.add_child(std::move(publish_options));
  }
  xml::Element iq(xmpp::kClientNs, "iq");
  iq.set_attribute("from", account);
  iq.set_attribute("to", registration.jid);
  iq.set_attribute("type", "set");
  iq.add_child(std::move(pubsub));
  return iq;
}

}  // namespace xmppd::router::push
