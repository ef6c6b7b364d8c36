// smacks (XEP-0198 stream management on client streams), Prosody's name: the module is the
// switch and the stream feature; the session mechanics (counters, queue, hibernation,
// resumption) are router/stream_management.cc, as they reach into the client stream itself.
#include "router/module_table.h"
#include "router/modules/modules.h"

namespace xmppd::router {
namespace {

class Smacks final : public Module {
 public:
  explicit Smacks(const ModuleContext& context) : Module("smacks", context.index) {}
  void stream_features(const HostConfig& host, std::string& out) const override {
    (void)host;
    out += "<sm xmlns='urn:xmpp:sm:3'/>";
  }
};

}  // namespace

std::unique_ptr<Module> make_smacks(const ModuleContext& context) { return std::make_unique<Smacks>(context); }

}  // namespace xmppd::router
