#include "auth-helper/account_changes.h"

#include "common/log.h"

namespace xmppd::auth {
namespace {

ipc::AccountChangeResult result(std::uint64_t query, std::string condition) {
  ipc::AccountChangeResult r;
  r.set_query(query);
  r.set_ok(condition.empty());
  r.set_condition(std::move(condition));
  return r;
}

}  // namespace

std::string AccountChanges::refusal(const char* what, const std::string& host, const std::string& username,
                                    const std::string& token) {
  // Checked by the helper itself, as for registration: no account lives on an anonymous host.
  if (anonymous_hosts_.count(host) > 0) return "not-allowed";
  if (host.empty() || username.empty() || !tokens_.check(host, username, token)) {
    log::warning("router violation: %s for %s@%s without a valid account token (refused; the router is "
                 "compromised, or the session logged in before this helper started)",
                 what, username.c_str(), host.c_str());
    return "not-authorized";
  }
  // Removed meanwhile (xmppctl deluser): the session is ending.
  if (!store_.exists(host, username)) return "not-authorized";
  return {};
}

ipc::AccountChangeResult AccountChanges::change_password(const ipc::PasswordChange& request) {
  std::string condition = refusal("a password change", request.host(), request.username(), request.token());
  if (!condition.empty()) return result(request.query(), condition);
  std::string error;
  if (request.password().empty()) return result(request.query(), "not-acceptable");
  if (!store_.set_password(request.host(), request.username(), request.password(), iterations_, error)) {
    log::notice("account %s@%s: password not changed: %s", request.username().c_str(), request.host().c_str(),
                error.c_str());
    return result(request.query(), "not-acceptable");
  }
  log::notice("account %s@%s: password changed in-band", request.username().c_str(), request.host().c_str());
  return result(request.query(), {});
}

ipc::AccountChangeResult AccountChanges::remove(const ipc::AccountRemoval& request) {
  std::string condition = refusal("an account removal", request.host(), request.username(), request.token());
  if (!condition.empty()) return result(request.query(), condition);
  std::string error;
  if (!store_.remove(request.host(), request.username(), error)) {
    log::error("account %s@%s: not removed: %s", request.username().c_str(), request.host().c_str(), error.c_str());
    return result(request.query(), "internal-server-error");
  }
  log::notice("account %s@%s: removed in-band", request.username().c_str(), request.host().c_str());
  return result(request.query(), {});
}

}  // namespace xmppd::auth
