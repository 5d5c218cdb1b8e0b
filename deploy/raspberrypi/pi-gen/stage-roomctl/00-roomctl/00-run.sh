#!/bin/bash -e
# pi-gen sub-stage: install roomctl into the image with the same install.sh a Pi uses, in its
# --no-systemctl mode. Runs on the build host; pi-gen provides ROOTFS_DIR and on_chroot.
# ROOMCTL_WHEEL: the roomctl wheel to install (build it with "pip wheel --no-deps -w dist .").
# ROOMCTL_PIP_ARGS: optional extra pip arguments, e.g. "--index-url https://mirror.example/simple".
: "${ROOMCTL_WHEEL:?set ROOMCTL_WHEEL to a roomctl wheel (pip wheel --no-deps -w dist .)}"
: "${ROOTFS_DIR:?run this from pi-gen (ROOTFS_DIR is not set)}"
deploy=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
stage=/tmp/roomctl-install
wheel=$(basename "$ROOMCTL_WHEEL")

rm -rf "${ROOTFS_DIR:?}${stage}"
install -d "${ROOTFS_DIR}${stage}"
cp -a "$deploy" "${ROOTFS_DIR}${stage}/raspberrypi"
cp "$ROOMCTL_WHEEL" "${ROOTFS_DIR}${stage}/"

args=(--no-systemctl --wheel "${stage}/${wheel}")
for arg in ${ROOMCTL_PIP_ARGS:-}; do
  args+=("--pip-arg=${arg}")
done
# pi-gen's on_chroot runs "bash -e" in the image with these commands on stdin
on_chroot <<EOF
bash ${stage}/raspberrypi/install.sh $(printf '%q ' "${args[@]}")
EOF
rm -rf "${ROOTFS_DIR:?}${stage}"

# No secrets in an image: every device makes its own at first boot.
leftovers=$(find "${ROOTFS_DIR}/var/lib/roomctl" -mindepth 1 2>/dev/null | head -n 5)
if [ -n "$leftovers" ]; then
  echo "roomctl stage: state found in the image, refusing to ship it: $leftovers" >&2
  exit 1
fi
