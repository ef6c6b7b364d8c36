// offline (XEP-0160): messages for a user with no available session are kept and delivered
// at the next login, stamped with XEP-0203 delay. The keeping and the paced delivery are the
// router's (routing.cc), which asks whether this module is enabled for the host.
#include "router/module_table.h"
#include "router/modules/modules.h"

namespace xmppd::router {
namespace {

class Offline final : public Module {
 public:
  explicit Offline(const ModuleContext& context) : Module("offline", context.index) {}
  void server_features(std::vector<std::string>& features) const override {
    features.emplace_back("msgoffline");
    features.emplace_back("urn:xmpp:delay");
  }
};

}  // namespace

std::unique_ptr<Module> make_offline(const ModuleContext& context) { return std::make_unique<Offline>(context); }

}  // namespace xmppd::router
