# What this configuration shares with the coturn kit in turn/. The kit stays the one source of
# truth: the user data is turn/cloud-init.yaml itself with its example lines (those marked
# CHANGE) swapped for this host's values, and test/unit/infra fails when the ports below or the
# swapped lines drift from turn/src/settings.ts and the kit's file.

locals {
  # turn/src/settings.ts DEFAULT_PORTS, which the kit's template renders into coturn's config.
  kit_ports = {
    listening      = 3478
    alt_listening  = 3479
    tls            = 443
    alt_tls        = 5350
    registered_tls = 5349
    min_relay      = 49152
    max_relay      = 65535
  }

  # What getTurnCredentials hands out (TURN_URIS), in the order turn/README.md explains: UDP,
  # then TCP on the listening port, then TLS on 443 for networks that let nothing else out
  # (browsers do not speak DTLS, so no turns: over UDP).
  turn_uris = [
    "turn:${var.domain}:${local.kit_ports.listening}?transport=udp",
    "turn:${var.domain}:${local.kit_ports.listening}?transport=tcp",
    "turns:${var.domain}:${local.kit_ports.tls}?transport=tcp",
  ]
  # The probe (space-separated) also checks TLS on 5349, which coturn serves for URIs handed
  # out before 443 was the default.
  probe_uris = "${join(" ", local.turn_uris)} turns:${var.domain}:${local.kit_ports.registered_tls}?transport=tcp"
  # coturn listens and relays on this fixed address: known before launch, it can be written
  # into the user data (the first two addresses of an OCI subnet are the gateway's).
  private_ip = cidrhost(var.subnet_cidr, 10)

  kit_cloud_init = file("${path.module}/../../turn/cloud-init.yaml")

  # Each example line of the kit (compared without its indentation) and this host's line.
  cloud_init_lines = {
    "TURN_DOMAIN=turn.example.com" = "TURN_DOMAIN=${var.domain}"
    "TURN_PUBLIC_IP=203.0.113.10"  = "TURN_PUBLIC_IP=${local.public_ip}"
    "TURN_PRIVATE_IP=10.0.0.5"     = "TURN_PRIVATE_IP=${local.private_ip}"

    "TURN_SECRET_NAME=projects/your-project-id/secrets/TURN_SHARED_SECRET" = "TURN_SECRET_NAME=${var.turn_secret_name}"

    "TURN_PROBE_URIS=turn:turn.example.com:3478?transport=udp turn:turn.example.com:3478?transport=tcp turns:turn.example.com:443?transport=tcp turns:turn.example.com:5349?transport=tcp" = "TURN_PROBE_URIS=${local.probe_uris}"

    # The VM installs only the packed kit (its tools, a Node 22 and their runtime dependencies).
    "- npm install --prefix /opt/webrtc-lite-turn --omit=dev --no-audit --no-fund https://github.com/your-org/webrtc-lite/releases/download/v0.1.0/webrtc-lite-turn-0.1.0.tgz" = "- npm install --prefix /opt/webrtc-lite-turn --omit=dev --no-audit --no-fund ${var.kit_url}"
  }

  kit_lines = split("\n", local.kit_cloud_init)

  # A kit line that changed would otherwise pass through with its example value: the instance's
  # precondition refuses the plan instead.
  kit_lines_missing = [for line in keys(local.cloud_init_lines) : line if !contains([for kit_line in local.kit_lines : trimspace(kit_line)], line)]

  user_data = join("\n", [
    for line in local.kit_lines :
    contains(keys(local.cloud_init_lines), trimspace(line)) ? replace(line, trimspace(line), local.cloud_init_lines[trimspace(line)]) : line
  ])
}
