#!/usr/bin/env python3
"""The `log` option (xmppd.conf(5)): the parent writes each file the levels its sinks take,
reopens the files on SIGHUP (as logrotate needs), keeps the sinks in force when a new one
cannot be opened, and refuses at start, and in a check, a file it cannot open. Root writes the
files, so it refuses one it should not write: a FIFO, a file someone else owns, a hard link, a
directory others may write to, a symbolic link on the way."""
import os
import pwd
import re
import signal
import stat
import subprocess

import harness
from harness import IntegrationTest, basic_config, wait_for

# "2026-12-05T07:15:52.123Z info router[123]: message" (UTC, milliseconds)
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warning|notice|info|debug) [\w\[\]]+: ")


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def levels(text):
    """The level of each line; fails on a line not in the format."""
    found = []
    for line in text.splitlines():
        m = LINE.match(line)
        assert m, f"not a log line: {line!r}"
        found.append(m.group(1))
    return found


class Logs(IntegrationTest):
    def config(self, log):
        return basic_config(self.workdir, f"log = {log}\n")

    def test_files_take_their_levels_and_are_reopened_on_sighup(self):
        info, err, debug = (os.path.join(self.workdir, name) for name in ("info.log", "error.log", "debug.log"))
        log = f'{{ info = "{info}"; error = "{err}"; {{ levels = "debug", to = "file", filename = "{debug}" }} }}'
        server = self.server(self.config(log)).start()
        kids = server.wait_sandboxed_children()
        server.wait_log(r"router\[\d+\]: TLS certificates for 0 hosts")
        for path in (info, err, debug):
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640, path)
        # info = ...: info and up, the parent's lines and the children's.
        text = read(info)
        self.assertEqual(set(levels(text)), {"warning", "notice", "info"})
        self.assertRegex(text, r"Z notice xmppd: xmppd \S+ starting with ")
        self.assertRegex(text, rf"Z info router\[{kids['router']}\]: running as _xmppd ")
        self.assertRegex(text, r"Z warning xmppd: no certificate for localhost")
        # levels = "debug": debug alone, which the processes now log although -d -v asks only
        # for info on standard error.
        self.assertEqual(set(levels(read(debug))), {"debug"})
        self.assertRegex(read(debug), r"Z debug xmppd: \w+ ready at configuration generation 1")
        self.assertNotRegex(server.log(), r"Z debug ")
        self.assertRegex(server.log(), r"Z info router\[\d+\]: running as")

        # logrotate: the file moved away, SIGHUP, a new file with the lines from then on; here
        # the new configuration has a mistake, which changes nothing else but is an error.
        good = read(server.config)
        os.rename(info, info + ".1")
        server.write_config(good + "\ns2s_stanza_size_limit = 9999\n")
        server.proc.send_signal(signal.SIGHUP)
        server.wait_log(r"the new configuration is not taken")
        wait_for(lambda: os.path.exists(info) and "the new configuration is not taken" in read(info), 5,
                 "a new info.log")
        self.assertEqual(stat.S_IMODE(os.stat(info).st_mode), 0o640)
        self.assertNotIn("the new configuration is not taken", read(info + ".1"))
        # error = ...: errors alone.
        self.assertIn("the new configuration is not taken", read(err))
        self.assertEqual(set(levels(read(err))), {"error"})

        os.rename(info, info + ".2")
        server.write_config(good)
        server.proc.send_signal(signal.SIGHUP)
        server.wait_log(r"reloaded .*: the new configuration is taken \(generation 2\)")
        wait_for(lambda: os.path.exists(info) and "(generation 2)" in read(info), 5, "another new info.log")
        self.assertNotIn("(generation 2)", read(info + ".2"))

        # A sink that cannot be opened at a reload: the sinks in force stay, the rest is taken.
        missing = os.path.join(self.workdir, "no-such-directory", "info.log")
        server.write_config(good.replace(f'info = "{info}"', f'info = "{missing}"'))
        server.proc.send_signal(signal.SIGHUP)
        server.wait_log(rf"reload: log: {re.escape(missing)}: No such file or directory; the log sinks in force stay")
        server.wait_log(r"the new configuration is taken \(generation 3\)")
        wait_for(lambda: "(generation 3)" in read(info), 5, "generation 3 in the info.log in force")
        self.assertEqual(server.children(), kids)

    def test_a_standard_error_that_is_the_journal_gets_priorities_not_times(self):
        server = self.server(basic_config(self.workdir))
        open(server.log_path, "ab").close()
        st = os.stat(server.log_path)  # the file the harness gives as standard error
        os.environ["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        try:
            server.start()
        finally:
            del os.environ["JOURNAL_STREAM"]
        server.wait_sandboxed_children()
        server.wait_log(r"(?m)^<6>router\[\d+\]: running as _xmppd ")
        self.assertEqual(server.stop(), 0)
        text = server.log()
        self.assertRegex(text, r"(?m)^<5>xmppd: xmppd \S+ starting with ")
        self.assertRegex(text, r"(?m)^<4>xmppd: no certificate for localhost")
        self.assertRegex(text, r"(?m)^<5>xmppd: router\[\d+\] stopped$")
        self.assertNotRegex(text, r"\d\d:\d\d\.\d{3}Z")

    def test_a_file_that_cannot_be_opened_stops_the_start_and_fails_the_check(self):
        missing = os.path.join(self.workdir, "no-such-directory", "xmppd.log")
        config = os.path.join(self.workdir, "xmppd.conf")
        with open(config, "w") as f:
            f.write(self.config(f'"{missing}"'))
        for command in (["-n"], ["-d"]):
            with self.subTest(command=command):
                r = subprocess.run([harness.XMPPD, *command, "-f", config], capture_output=True, text=True,
                                   timeout=30)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(f"{config}: log: {missing}: No such file or directory", r.stderr)
                self.assertNotIn("configuration OK", r.stderr)

    def test_a_sink_xmppd_lacks_is_refused_at_its_line(self):
        config = os.path.join(self.workdir, "xmppd.conf")
        with open(config, "w") as f:
            f.write(self.config('{\n  { to = "ringbuffer", filename = "/tmp/x" };\n}'))
        r = subprocess.run([harness.XMPPD, "-n", "-f", config], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1, r.stderr)
        line = read(config).splitlines().index('  { to = "ringbuffer", filename = "/tmp/x" };') + 1
        self.assertIn(f'{config}:{line}: log has a filename in a sink to = "ringbuffer"', r.stderr)


XMPPCTL = os.path.join(harness.BUILD_DIR, "xmppctl", "xmppctl")


class LogFilesRootWrites(IntegrationTest):
    """What root refuses to open as a log file, each with a reason that names it: at start (here
    in a check, which opens the files the same way) and at a reload, which keeps the sinks in
    force, opens them anew and says which sink it refused."""

    def refused(self):
        """Paths that must be refused, each with the reason xmppd must give."""
        wd = self.workdir
        fifo = os.path.join(wd, "fifo.log")
        os.mkfifo(fifo, 0o600)
        foreign = os.path.join(wd, "foreign.log")
        open(foreign, "w").close()
        os.chmod(foreign, 0o666)
        nobody = pwd.getpwnam("nobody").pw_uid
        os.chown(foreign, nobody, nobody)
        self.secret = os.path.join(wd, "secret")
        with open(self.secret, "w") as f:
            f.write("secret\n")
        os.chmod(self.secret, 0o600)
        hard = os.path.join(wd, "hard.log")
        os.link(self.secret, hard)
        return {
            "fifo": (fifo, f"{fifo}: not a regular file"),
            "foreign": (foreign, f"{foreign}: belongs to uid {nobody}, not to xmppd's (uid 0)"),
            "hard link": (hard, f"{hard}: has 2 hard links"),
        }

    def assert_untouched(self):
        self.assertEqual(stat.S_IMODE(os.stat(self.secret).st_mode), 0o600)
        self.assertEqual(read(self.secret), "secret\n")
        foreign = os.path.join(self.workdir, "foreign.log")
        self.assertEqual(stat.S_IMODE(os.stat(foreign).st_mode), 0o666)
        self.assertEqual(os.path.getsize(foreign), 0)

    def test_refused_at_start(self):
        cases = self.refused()
        shared = os.path.join(self.workdir, "shared")
        os.mkdir(shared)
        os.chmod(shared, 0o775)
        real = os.path.join(self.workdir, "real")
        os.mkdir(real)
        os.symlink(real, os.path.join(self.workdir, "via-link"))
        cases["group-writable directory"] = (
            os.path.join(shared, "x.log"), f"{shared}/x.log: its directory {shared} is writable by its group or others "
            "(mode 0775)")
        cases["symbolic link on the way"] = (
            os.path.join(self.workdir, "via-link", "x.log"),
            f"{self.workdir}/via-link/x.log: {self.workdir}/via-link is a symbolic link")
        config = os.path.join(self.workdir, "xmppd.conf")
        for case, (path, why) in cases.items():
            with self.subTest(case=case):
                with open(config, "w") as f:
                    f.write(basic_config(self.workdir, f'log = "{path}"\n'))
                # A FIFO must not block the open: the timeout would raise.
                r = subprocess.run([harness.XMPPD, "-n", "-f", config], capture_output=True, text=True, timeout=30)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn(f"{config}: log: {why}", r.stderr)
        self.assertEqual(os.listdir(real), [])
        self.assertEqual(os.listdir(shared), [])
        self.assert_untouched()

    def test_refused_at_reload_keeps_and_reopens_the_sinks_in_force(self):
        info = os.path.join(self.workdir, "info.log")
        good = basic_config(self.workdir, f'log = {{ info = "{info}" }}\n')
        server = self.server(good).start()
        server.wait_sandboxed_children()
        generation = 1
        for case, (path, why) in self.refused().items():
            with self.subTest(case=case):
                # logrotate moved the file away: the sink in force is opened anew all the same.
                os.rename(info, f"{info}.{generation}")
                server.write_config(good.replace(f'info = "{info}"', f'info = "{path}"'))
                r = subprocess.run([XMPPCTL, "-f", server.config, "reload"], capture_output=True, text=True,
                                   timeout=30)
                generation += 1
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertIn(f"configuration taken (generation {generation})", r.stdout)
                self.assertRegex(r.stderr, rf"reload: log: {re.escape(why)}[^\n]*; the log sinks in force stay\n")
                wait_for(lambda: os.path.exists(info) and f"(generation {generation})" in read(info), 5,
                         f"generation {generation} in a new {info}")
        self.assert_untouched()
        self.assertEqual(stat.S_IMODE(os.stat(info).st_mode), 0o640)


if __name__ == "__main__":
    harness.main()
