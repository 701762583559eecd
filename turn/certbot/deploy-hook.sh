#!/bin/sh
# certbot deploy hook: lets coturn (user turnserver, or the container's user via group_add)
# read the renewed certificate and key, then has coturn reload them without a restart.
# Install (turn/README.md, Path A): copied out of the installed kit to
# /etc/webrtc-lite/certbot-deploy-hook.sh, then certbot ... --deploy-hook /etc/webrtc-lite/certbot-deploy-hook.sh
set -eu
group=turn-tls
getent group "$group" >/dev/null || groupadd --system "$group"
for dir in /etc/letsencrypt/live /etc/letsencrypt/archive; do
  chgrp -R "$group" "$dir"
  chmod 0750 "$dir"
done
# RENEWED_LINEAGE is /etc/letsencrypt/live/<domain>; the key files live in archive/<domain>.
domain=$(basename "${RENEWED_LINEAGE:?certbot sets RENEWED_LINEAGE}")
chmod 0750 "/etc/letsencrypt/archive/$domain" "$RENEWED_LINEAGE"
chmod 0640 /etc/letsencrypt/archive/"$domain"/privkey*.pem
# coturn rereads its certificate and key on SIGUSR2 (the files must stay readable by its
# user, above): no restart, so relayed calls go on.
if systemctl is-active --quiet coturn.service; then
  systemctl kill --signal=SIGUSR2 coturn.service
fi
if command -v docker >/dev/null 2>&1 && docker inspect webrtc-lite-coturn >/dev/null 2>&1; then
  docker kill --signal=SIGUSR2 webrtc-lite-coturn >/dev/null
fi
