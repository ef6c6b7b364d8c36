#!/usr/bin/env bash
# tests/package_test.sh [DEB]: the Debian package, installed as a user would install it.
#
# Builds the package from this tree with dpkg-buildpackage (unless DEB names one), checks it
# with lintian, installs it into a fresh Debian 12 chroot, boots that chroot with systemd
# (systemd-nspawn --boot) and checks that the unit xmppd.service came up by itself (enabled by
# the postinst, Type=notify: active means the parent said READY=1), that `xmppctl adduser`
# works, that a client logs in over STARTTLS and checks the certificate the postinst made, and
# that `systemctl reload` (of a good file and of a broken one) and `systemctl stop` work.
#
# Two phases. Preparing may use the network, as ./dev and tools/fresh-debian do: the build
# dependencies, the base system (the fresh-debian image /var/tmp/fresh-bookworm.tar if there,
# else debootstrap from the mirror in /etc/apt) and the .deb files the package depends on,
# kept in /var/tmp/xmppd-package-test/archives for the next run. The test itself runs in a
# network namespace of its own, with loopback only: nothing it does can leave the machine.
#
# Not part of `./dev test` and CI: it compiles everything a second time with Debian's flags and
# may download; it takes a few minutes. Needs root. README.md, "The Debian package".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=/var/tmp/xmppd-package-test
base=/var/tmp/fresh-bookworm.tar
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
[ -f "$base" ] || base=$work/bookworm.tar

say() { echo "package_test: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run as root (it makes a chroot and boots it)"

need_host_tools() {
  local missing=() p
  for p in dpkg-dev debhelper lintian systemd-container debootstrap python3-slixmpp iproute2; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return
  say "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The package from a copy of the tree (dpkg-buildpackage writes its results next to the tree).
build_package() {
  rm -rf "$work/src" && mkdir -p "$work/src/xmppd"
  tar -C "$top" --exclude=./.git --exclude='./build*' --exclude='./obj-*' --exclude=./demo \
    --exclude=./debian/xmppd --exclude=./debian/.debhelper -c . | tar -C "$work/src/xmppd" -x
  (cd "$work/src/xmppd" && DEBIAN_FRONTEND=noninteractive apt-get build-dep -y -qq . >/dev/null)
  say "dpkg-buildpackage -b -us -uc (log: $work/build.log)"
  (cd "$work/src/xmppd" && dpkg-buildpackage -b -us -uc) > "$work/build.log" 2>&1 ||
    { tail -30 "$work/build.log"; fail "dpkg-buildpackage failed"; }
  deb=$(ls "$work"/src/xmppd_*.deb | grep -v dbgsym | head -1)
}

# Mounts what a chroot needs, runs a command in it, and unmounts, in a mount namespace of its own.
in_chroot() {
  local root=$1; shift
  unshare --mount --fork bash -c 'R=$1; shift
    mount -t proc proc "$R/proc" && mount --rbind /dev "$R/dev" && mount --rbind /sys "$R/sys" &&
    mount --bind "$ARCHIVES" "$R/var/cache/apt/archives" && chroot "$R" "$@"' _ "$root" "$@"
}

new_root() {
  local root=$1
  rm -rf "$root" && mkdir -p "$root"
  tar -C "$root" -xf "$base"
  cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/" 2>/dev/null &&
    rm -f "$root/etc/apt/sources.list"
  mkdir -p "$root/var/cache/apt/archives"
  cp "$deb" "$root/root/"
}

prepare() {
  need_host_tools
  mkdir -p "$work"
  if [ -z "${deb:-}" ]; then build_package; fi
  say "lintian $(basename "$deb")"
  lintian --fail-on error "$deb" || fail "lintian found errors"
  if [ ! -f "$base" ]; then
    say "no /var/tmp/fresh-bookworm.tar (tools/fresh-debian's image): debootstrap from $mirror"
    rm -rf "$work/bootstrap"
    debootstrap --variant=minbase bookworm "$work/bootstrap" "$mirror" > "$work/debootstrap.log" 2>&1 ||
      fail "debootstrap failed, see $work/debootstrap.log"
    tar -C "$work/bootstrap" -cf "$base" . && rm -rf "$work/bootstrap"
  fi
  # What the package pulls in, downloaded once into $ARCHIVES (apt skips what is there).
  new_root "$work/download"
  cp /etc/resolv.conf "$work/download/etc/resolv.conf"
  say "downloading the package's dependencies into $ARCHIVES"
  in_chroot "$work/download" bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --download-only --no-install-recommends /root/$(basename "$deb") >/dev/null" ||
    fail "cannot download the dependencies"
  cp -r "$work/download/var/lib/apt/lists" "$work/lists.new" && rm -rf "$work/lists" && mv "$work/lists.new" "$work/lists"
  rm -rf "$work/download"
}

# The container's systemd (its pid 1), found among the descendants of systemd-nspawn.
container_init() {
  local nspawn=$1 p q
  for p in $(pgrep -x systemd); do
    q=$p
    while [ "$q" -gt 1 ]; do
      q=$(awk '/^PPid:/{print $2}' "/proc/$q/status" 2>/dev/null || echo 1)
      [ "$q" = "$nspawn" ] && { echo "$p"; return; }
    done
  done
}

# Phase two, in a network namespace with loopback only.
run_test() {
  local root=$work/root
  ip link set lo up
  new_root "$root"
  cp -r "$work/lists/." "$root/var/lib/apt/lists/"
  say "installing $(basename "$deb") offline"
  # dpkg stops at the missing dependencies; apt brings them from the archive and configures
  # xmppd. (apt-get install of the file itself trips over the bound archive directory.)
  in_chroot "$root" bash -c "dpkg -i /root/$(basename "$deb") || DEBIAN_FRONTEND=noninteractive \
    apt-get install -f -y -qq --no-download --no-install-recommends" > "$work/install.log" 2>&1 ||
    { cat "$work/install.log"; fail "the package did not install"; }
  grep -q "^Status: install ok installed" <(in_chroot "$root" dpkg -s xmppd) ||
    { cat "$work/install.log"; fail "xmppd is not installed"; }
  for u in _xmppd _xmppd_tls _xmppd_auth _xmppd_storage; do
    grep -q "^$u:" "$root/etc/passwd" || fail "the package did not create the user $u"
  done
  [ -f "$root/etc/xmppd/certs/localhost.crt" ] || fail "the postinst made no certificate"
  [ -L "$root/etc/systemd/system/multi-user.target.wants/xmppd.service" ] || fail "xmppd.service is not enabled"
  grep -q '^/etc/xmppd/xmppd.conf$' "$root/var/lib/dpkg/info/xmppd.conffiles" ||
    fail "/etc/xmppd/xmppd.conf is not a conffile"

  say "booting the chroot with systemd-nspawn"
  systemd-nspawn -q -D "$root" --boot --register=no --keep-unit --console=passive > "$work/boot.log" 2>&1 &
  nspawn=$!
  trap 'kill $nspawn 2>/dev/null; wait $nspawn 2>/dev/null' EXIT
  local init=""
  for _ in $(seq 100); do
    init=$(container_init "$nspawn"); [ -n "$init" ] && break; sleep 0.1
  done
  [ -n "$init" ] || { cat "$work/boot.log"; fail "systemd did not start in the container"; }
  c() { nsenter -t "$init" -m -u -i -p -- "$@"; }
  # systemctl speaks to systemd on its private socket, there once the manager is up.
  for _ in $(seq 100); do c test -S /run/systemd/private && break; sleep 0.1; done
  timeout 60 nsenter -t "$init" -m -u -i -p -- systemctl is-system-running --wait > /dev/null || true
  local state
  state=$(c systemctl show -p ActiveState --value xmppd || true)
  [ "$state" = active ] || { c journalctl -u xmppd --no-pager | tail -30; fail "xmppd.service is $state after boot"; }
  say "xmppd.service is active: $(c systemctl show -p StatusText --value xmppd)"

  local password
  password=$(openssl rand -hex 12)
  echo "$password" | c xmppctl adduser tester@localhost || fail "xmppctl adduser failed"
  cp "$root/etc/xmppd/certs/localhost.crt" "$work/ca.pem"
  /usr/bin/python3 "$top/tests/package_login.py" tester@localhost "$password" "$work/ca.pem" 2>/dev/null ||
    { c journalctl -u xmppd --no-pager | tail -30; fail "the client did not log in"; }

  c systemctl reload xmppd || { c journalctl -u xmppd --no-pager | tail -20; fail "systemctl reload failed"; }
  c journalctl -u xmppd --no-pager | grep -q "reloaded /etc/xmppd/xmppd.conf" || fail "no reload in the log"
  [ "$(c systemctl show -p ActiveState --value xmppd)" = active ] || fail "xmppd.service not active after reload"
  /usr/bin/python3 "$top/tests/package_login.py" tester@localhost "$password" "$work/ca.pem" 2>/dev/null ||
    fail "the client did not log in after the reload"

  # A broken file: the reload fails, and the server goes on with what it had.
  cp "$root/etc/xmppd/xmppd.conf" "$work/xmppd.conf.good"
  echo 'c2s_ports = {' >> "$root/etc/xmppd/xmppd.conf"
  ! c systemctl reload xmppd 2>/dev/null || fail "systemctl reload took a broken configuration"
  [ "$(c systemctl show -p ActiveState --value xmppd)" = active ] || fail "a refused reload stopped xmppd.service"
  cp "$work/xmppd.conf.good" "$root/etc/xmppd/xmppd.conf"
  /usr/bin/python3 "$top/tests/package_login.py" tester@localhost "$password" "$work/ca.pem" 2>/dev/null ||
    fail "the client did not log in after a refused reload"

  c systemctl stop xmppd
  c journalctl -u xmppd --no-pager | grep -q "xmppd: stopped" || fail "no orderly stop in the log"
  kill "$nspawn"  # systemd-nspawn asks the container's systemd to power off
  wait "$nspawn" 2>/dev/null || true
  trap - EXIT
  rm -rf "$root"
  say "PASS: installed, users made, service started (notify), login, reload and stop"
}

deb=${1:-}
export ARCHIVES=$work/archives
mkdir -p "$ARCHIVES/partial"
if [ "${PACKAGE_TEST_PHASE:-}" = run ]; then
  run_test
  exit 0
fi
[ -z "$deb" ] || deb=$(readlink -f "$deb")
prepare
say "the test proper, without network (unshare --net)"
PACKAGE_TEST_PHASE=run unshare --net --fork "$0" "$deb"
