#!/usr/bin/env bash
# Install or upgrade roomctl on Raspberry Pi OS Lite (Bookworm, 64-bit), or inside an image-build
# chroot with --no-systemctl. Idempotent: a second run with the same inputs changes nothing, and
# an edited /etc/roomctl/roomctl.toml is never overwritten. No secrets are made here: keys, the
# room secret and the device id come from roomctl-firstboot.service on the device itself.
set -euo pipefail
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PREFIX=/opt/roomctl
ETC=/etc/roomctl
STATE=/var/lib/roomctl
UNITS=/etc/systemd/system
BOOT_DIR=/boot/firmware
SERVICE_USER=roomctl
KIOSK_USER=roomctl-kiosk
# Pin 1080p60 on HDMI0 and force hotplug, so a projector that is off at boot (or drops HPD when
# power-cycled) still gets a picture; no console blanking.
CMDLINE_TOKENS=(video=HDMI-A-1:1920x1080@60D vc4.force_hotplug=1 consoleblank=0)

SOURCE=""
WHEEL=""
PIP_ARGS=()
USE_SYSTEMCTL=1
USE_APT=1
BOOT_CONFIG=1
CHANGED_UNITS=0
CHANGED_CODE=0
JOURNALD_CHANGED=0
UDEV_CHANGED=0
WROTE=0

usage() {
  cat <<EOF
usage: install.sh [options]
  --source DIR       install roomctl from this source tree (default: the tree holding this script)
  --wheel FILE       install roomctl from this wheel instead
  --pip-arg ARG      extra argument for pip, repeatable (e.g. --pip-arg=--no-index)
  --no-systemctl     image-build chroot: enable units by symlink, start nothing
  --no-apt           do not run apt-get; only report missing packages
  --no-boot-config   leave cmdline.txt alone
  --boot-dir DIR     boot partition (default /boot/firmware)
EOF
}

log() { printf 'install: %s\n' "$*"; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --source) SOURCE=${2:?--source needs a folder}; shift ;;
      --source=*) SOURCE=${1#*=} ;;
      --wheel) WHEEL=${2:?--wheel needs a file}; shift ;;
      --wheel=*) WHEEL=${1#*=} ;;
      --pip-arg) PIP_ARGS+=("${2:?--pip-arg needs a value}"); shift ;;
      --pip-arg=*) PIP_ARGS+=("${1#*=}") ;;
      --no-systemctl) USE_SYSTEMCTL=0 ;;
      --no-apt) USE_APT=0 ;;
      --no-boot-config) BOOT_CONFIG=0 ;;
      --boot-dir) BOOT_DIR=${2:?--boot-dir needs a folder}; shift ;;
      --boot-dir=*) BOOT_DIR=${1#*=} ;;
      -h|--help) usage; exit 0 ;;
      *) usage >&2; die "unknown option: $1" ;;
    esac
    shift
  done
  if [ -z "$WHEEL" ] && [ -z "$SOURCE" ]; then
    SOURCE=$(cd "$HERE/../.." && pwd)
  fi
  if [ -n "$WHEEL" ]; then
    [ -f "$WHEEL" ] || die "no such wheel: $WHEEL"
  else
    [ -f "$SOURCE/pyproject.toml" ] || die "not a roomctl source tree: $SOURCE"
  fi
}

install_packages() {
  local wanted missing=() pkg
  mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$HERE/apt-packages.txt" | grep -v '^$')
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$USE_APT" -eq 0 ]; then
    log "warning: missing Debian packages (not installed, --no-apt): ${missing[*]}"
    return 0
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ensure_user NAME HOME GROUP...: a system account with its own group, in the groups that exist
ensure_user() {
  local name=$1 home=$2 group
  shift 2
  if ! getent passwd "$name" >/dev/null; then
    log "creating system user $name"
    useradd --system --user-group --home-dir "$home" --no-create-home \
      --shell /usr/sbin/nologin "$name"
  fi
  for group in "$@"; do
    getent group "$group" >/dev/null || continue
    id -nG "$name" | tr ' ' '\n' | grep -qx "$group" || usermod -aG "$group" "$name"
  done
}

# put FILE DEST MODE [OWNER:GROUP]: copy only when the content differs; sets WROTE=1 if it did
put() {
  local src=$1 dest=$2 mode=$3 owner=${4:-root:root}
  WROTE=0
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    chmod "$mode" "$dest"
    chown "$owner" "$dest"
    return 0
  fi
  mkdir -p "$(dirname "$dest")"
  install -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$src" "$dest"
  WROTE=1
  log "wrote $dest"
}

make_dirs() {
  install -d -m 0755 -o root -g root "$PREFIX"
  install -d -m 0750 -o root -g "$SERVICE_USER" "$ETC"
  install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$STATE"
  if [ ! -e "$ETC/roomctl.toml" ]; then
    if [ -f "$HERE/roomctl.toml.example" ]; then
      install -m 0640 -o root -g "$SERVICE_USER" "$HERE/roomctl.toml.example" "$ETC/roomctl.toml"
      log "wrote $ETC/roomctl.toml from the example; edit room.id before use"
    else
      log "warning: no roomctl.toml.example next to install.sh; $ETC/roomctl.toml not created"
    fi
  fi
}

source_fingerprint() {
  if [ -n "$WHEEL" ]; then
    sha256sum "$WHEEL" | cut -d' ' -f1
    return
  fi
  (cd "$SOURCE" && find . \( -name .git -o -name .venv -o -name __pycache__ -o -name build \
      -o -name '*.egg-info' -o -name .pytest_cache -o -name .mypy_cache \) -prune \
      -o -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1
}

install_venv() {
  local venv=$PREFIX/venv stamp=$PREFIX/installed.sha256 fingerprint target
  if ! "$venv/bin/python" -c 'pass' 2>/dev/null; then
    log "creating $venv"
    rm -rf "$venv" "$stamp"
    python3 -m venv "$venv"
  fi
  fingerprint=$(source_fingerprint)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$fingerprint" ]; then
    return 0
  fi
  target=${WHEEL:-$SOURCE}
  log "installing roomctl from $target"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input --upgrade \
    ${PIP_ARGS[@]+"${PIP_ARGS[@]}"} "$target"
  echo "$fingerprint" >"$stamp"
  CHANGED_CODE=1
  if [ "$(readlink /usr/local/bin/roomctl 2>/dev/null || true)" != "$venv/bin/roomctl" ]; then
    ln -sfn "$venv/bin/roomctl" /usr/local/bin/roomctl
  fi
}

install_system_files() {
  local unit
  for unit in roomctl.service roomctl-kiosk.service roomctl-firstboot.service; do
    put "$HERE/systemd/$unit" "$UNITS/$unit" 0644
    CHANGED_UNITS=$((CHANGED_UNITS | WROTE))
  done
  put "$HERE/systemd/systemd-time-wait-sync.service.d/roomctl.conf" \
    "$UNITS/systemd-time-wait-sync.service.d/roomctl.conf" 0644
  CHANGED_UNITS=$((CHANGED_UNITS | WROTE))
  put "$HERE/systemd/journald.conf.d/roomctl.conf" /etc/systemd/journald.conf.d/roomctl.conf 0644
  JOURNALD_CHANGED=$WROTE
  put "$HERE/udev/61-roomctl-serial.rules" /etc/udev/rules.d/61-roomctl-serial.rules 0644
  UDEV_CHANGED=$WROTE
  put "$HERE/pam-roomctl-kiosk" /etc/pam.d/roomctl-kiosk 0644
  # WebRTC's UDP ports in a fixed range the school firewall can open; autoplay without a click
  put "$HERE/chromium-policy.json" /etc/chromium/policies/managed/roomctl.json 0644
}

boot_config() {
  local cmdline=$BOOT_DIR/cmdline.txt token key line
  [ "$BOOT_CONFIG" -eq 1 ] && [ -f "$cmdline" ] || return 0
  line=$(head -n 1 "$cmdline")
  for token in "${CMDLINE_TOKENS[@]}"; do
    key=${token%%=*}=
    [ "$key" = "video=" ] && key=${token%%:*}:
    case " $line " in *" $key"*) continue ;; esac
    line="$line $token"
  done
  if [ "$line" != "$(head -n 1 "$cmdline")" ]; then
    printf '%s\n' "$line" >"$cmdline"
    log "updated $cmdline (HDMI hotplug, 1080p, no blanking); takes effect on reboot"
  fi
}

# enable_offline UNIT: what "systemctl enable" does, as symlinks, for a chroot without systemd
enable_offline() {
  local unit=$1 path target targets
  for path in "$UNITS/$unit" "/lib/systemd/system/$unit" "/usr/lib/systemd/system/$unit"; do
    [ -f "$path" ] && break
  done
  [ -f "$path" ] || { log "warning: $unit not found; not enabled"; return 0; }
  read -ra targets <<<"$(sed -n 's/^WantedBy=//p' "$path" | tr '\n' ' ')"
  for target in "${targets[@]}"; do
    mkdir -p "$UNITS/$target.wants"
    if [ "$(readlink "$UNITS/$target.wants/$unit" 2>/dev/null || true)" != "$path" ]; then
      ln -sfn "$path" "$UNITS/$target.wants/$unit"
    fi
  done
}

enable_units() {
  local units=(roomctl.service roomctl-kiosk.service systemd-timesyncd.service
    systemd-time-wait-sync.service)
  # provisioning runs once per device: not again on an upgrade of a provisioned Pi
  [ -e "$STATE/device_id" ] || units+=(roomctl-firstboot.service)
  if [ "$USE_SYSTEMCTL" -eq 0 ]; then
    for unit in "${units[@]}"; do enable_offline "$unit"; done
    return 0
  fi
  if [ "$CHANGED_UNITS" -eq 1 ]; then systemctl daemon-reload; fi
  systemctl enable --quiet "${units[@]}"
  if [ "$UDEV_CHANGED" -eq 1 ]; then
    udevadm control --reload-rules
    udevadm trigger --subsystem-match=tty --action=add
  fi
  if [ "$JOURNALD_CHANGED" -eq 1 ]; then systemctl restart systemd-journald; fi
  if [ ! -e "$STATE/device_id" ]; then systemctl start roomctl-firstboot.service; fi
  if [ "$CHANGED_CODE" -eq 1 ] || [ "$CHANGED_UNITS" -eq 1 ]; then
    systemctl restart roomctl.service roomctl-kiosk.service
  else
    systemctl start roomctl.service roomctl-kiosk.service
  fi
}

main() {
  parse_args "$@"
  [ "$(id -u)" -eq 0 ] || die "run as root (sudo)"
  install_packages
  ensure_user "$SERVICE_USER" "$STATE" dialout
  ensure_user "$KIOSK_USER" "/var/lib/$KIOSK_USER" video render input
  make_dirs
  install_venv
  install_system_files
  boot_config
  enable_units
  log "done"
}

main "$@"
