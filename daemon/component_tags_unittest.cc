// component_secret_tag: equal for equal secrets within a run, different otherwise, and not
// a plain hash of the secret (the router must not be able to test guesses against it).
#include "daemon/component_tags.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

namespace xmppd::parent {
namespace {

std::string sha256(std::string_view text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  EVP_Digest(text.data(), text.size(), md, &size, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), size);
}

TEST(ComponentSecretTag, SameSecretSameTagOtherwiseNot) {
  EXPECT_EQ(component_secret_tag("s3cret"), component_secret_tag("s3cret"));
  EXPECT_NE(component_secret_tag("s3cret"), component_secret_tag("s3creT"));
  EXPECT_NE(component_secret_tag(""), component_secret_tag("x"));
  EXPECT_EQ(component_secret_tag("s3cret").size(), 32u);
}

TEST(ComponentSecretTag, KeyedNotAPlainHash) {
  EXPECT_NE(component_secret_tag("s3cret"), sha256("s3cret"));
  EXPECT_EQ(component_secret_tag("s3cret").find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace xmppd::parent
