#!/usr/bin/env python3
"""meson.build refuses, at configure time and naming the package to upgrade, a dependency older
than the code needs: here an expat whose header lacks XML_SetReparseDeferralEnabled, as Debian
12's first libexpat1-dev (2.5.0-1) had. The old header is made from the installed one with that
declaration taken out, and served through a pkg-config file of its own, so that the project's
own meson.build is run against it.

Usage: configure_checks_test.py SOURCE_ROOT MESON
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

SOURCE_ROOT, MESON = sys.argv[1], sys.argv[2]
DECLARATION = re.compile(r"XMLPARSEAPI\(XML_Bool\)\s*XML_SetReparseDeferralEnabled\([^;]*\);")


class ConfigureChecks(unittest.TestCase):
    def setup_with_expat_header(self, header_text):
        with tempfile.TemporaryDirectory(prefix="xmppd-configure-") as tmp:
            include = os.path.join(tmp, "include")
            os.mkdir(include)
            with open(os.path.join(include, "expat.h"), "w") as f:
                f.write(header_text)
            with open(os.path.join(tmp, "expat.pc"), "w") as f:
                f.write(f"Name: expat\nDescription: a test's expat\nVersion: 2.5.0\n"
                        f"Libs: -lexpat\nCflags: -I{include}\n")
            env = dict(os.environ, PKG_CONFIG_PATH=tmp)
            return subprocess.run([MESON, "setup", os.path.join(tmp, "build"), SOURCE_ROOT, "-Dtests=false"],
                                  env=env, capture_output=True, text=True, timeout=120)

    def test_expat_without_reparse_deferral_is_refused_naming_the_package(self):
        with open("/usr/include/expat.h") as f:
            current = f.read()
        old, count = DECLARATION.subn("", current)
        self.assertEqual(count, 1, "the installed expat.h declares XML_SetReparseDeferralEnabled once")
        r = self.setup_with_expat_header(old)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("lacks XML_SetReparseDeferralEnabled", r.stdout)
        self.assertIn("upgrade libexpat1-dev and libexpat1 to 2.5.0-1+deb12u1 or later", r.stdout)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
