#!/usr/bin/env bash
# Builds the base image berth/busybox from Debian's busybox-static: no registry is reachable here,
# so the image is a root file system imported with `docker import`. Idempotent.
set -euo pipefail
IMAGE=${IMAGE:-berth/busybox:latest}
if docker image inspect "$IMAGE" >/dev/null 2>&1 && [ "${FORCE:-0}" != 1 ]; then
  exit 0
fi
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
  BUSYBOX=/bin/busybox
fi
[ -x "$BUSYBOX" ] || { echo "busybox-static is not installed (apt-get install -y busybox-static)" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,var/www,proc,sys,dev,root}
cp "$BUSYBOX" "$root/bin/busybox"
# One link per applet, so `sh`, `httpd`, `wget`, `sleep` ... all exist.
for applet in $("$root/bin/busybox" --list); do
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
echo '<h1>Hello from Berth</h1>' >"$root/var/www/index.html"
chmod 1777 "$root/tmp"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' \
  --change 'WORKDIR /' \
  --change 'CMD ["sh"]' \
  - "$IMAGE" >/dev/null
echo "built $IMAGE"
