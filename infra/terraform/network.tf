# One VCN with one public subnet: the TURN host must be reachable from any client on the
# internet, and it needs a route out for packages, Let's Encrypt, Secret Manager and relayed media.

resource "oci_core_vcn" "turn" {
  compartment_id = var.compartment_ocid
  cidr_blocks    = [var.vcn_cidr]
  display_name   = "${var.name_prefix}-vcn"
}

resource "oci_core_internet_gateway" "turn" {
  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.turn.id
  enabled        = true
  display_name   = "${var.name_prefix}-igw"
}

resource "oci_core_route_table" "turn" {
  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.turn.id
  display_name   = "${var.name_prefix}-routes"

  route_rules {
    destination       = "0.0.0.0/0"
    destination_type  = "CIDR_BLOCK"
    network_entity_id = oci_core_internet_gateway.turn.id
  }
}

# Every VCN comes with a default security list that opens SSH to the world. The subnet below
# does not use it, and this empties it, so that no rule exists besides the kit's own.
resource "oci_core_default_security_list" "closed" {
  manage_default_resource_id = oci_core_vcn.turn.default_security_list_id
  display_name               = "${var.name_prefix}-default-closed"
}

# Exactly the kit's firewall (turn/README.md, "Firewall"; the ufw lines of turn/cloud-init.yaml):
# test/unit/infra checks these rules against turn/src/settings.ts DEFAULT_PORTS and fails on any
# extra or missing port. RFC 5780's alternate ports (3479, 5350) stay closed: coturn serves them
# only with a second address, which this VM does not have. Protocol numbers: 6 = TCP, 17 = UDP. Rules are stateful, so replies
# (and the relay's traffic toward peers) need no ingress rule of their own.
resource "oci_core_security_list" "turn" {
  compartment_id = var.compartment_ocid
  vcn_id         = oci_core_vcn.turn.id
  display_name   = "${var.name_prefix}-turn"

  ingress_security_rules {
    description = "TURN/STUN over UDP (listening-port)"
    protocol    = "17"
    source      = "0.0.0.0/0"
    udp_options {
      min = local.kit_ports.listening
      max = local.kit_ports.listening
    }
  }
  ingress_security_rules {
    description = "TURN/STUN over TCP (listening-port)"
    protocol    = "6"
    source      = "0.0.0.0/0"
    tcp_options {
      min = local.kit_ports.listening
      max = local.kit_ports.listening
    }
  }
  ingress_security_rules {
    description = "TURN over TLS, turns: on 443 (tls-listening-port), what restrictive networks let out"
    protocol    = "6"
    source      = "0.0.0.0/0"
    tcp_options {
      min = local.kit_ports.tls
      max = local.kit_ports.tls
    }
  }
  ingress_security_rules {
    description = "TURN over TLS, turns: on IANA's 5349 (coturn aux-server), for URIs handed out before 443"
    protocol    = "6"
    source      = "0.0.0.0/0"
    tcp_options {
      min = local.kit_ports.registered_tls
      max = local.kit_ports.registered_tls
    }
  }
  ingress_security_rules {
    description = "Relayed media (min-port to max-port; no-tcp-relay, so UDP only)"
    protocol    = "17"
    source      = "0.0.0.0/0"
    udp_options {
      min = local.kit_ports.min_relay
      max = local.kit_ports.max_relay
    }
  }

  ingress_security_rules {
    description = "Let's Encrypt HTTP-01 challenge for certbot --standalone (issue and renewals)"
    protocol    = "6"
    source      = "0.0.0.0/0"
    tcp_options {
      min = 80
      max = 80
    }
  }

  ingress_security_rules {
    description = "SSH from the operator's network only"
    protocol    = "6"
    source      = var.operator_ssh_cidr
    tcp_options {
      min = 22
      max = 22
    }
  }

  egress_security_rules {
    description = "Packages, Let's Encrypt, Secret Manager and relayed media toward peers"
    protocol    = "all"
    destination = "0.0.0.0/0"
  }
}

resource "oci_core_subnet" "turn" {
  compartment_id             = var.compartment_ocid
  vcn_id                     = oci_core_vcn.turn.id
  cidr_block                 = var.subnet_cidr
  display_name               = "${var.name_prefix}-subnet"
  route_table_id             = oci_core_route_table.turn.id
  security_list_ids          = [oci_core_security_list.turn.id]
  prohibit_public_ip_on_vnic = false

  lifecycle {
    precondition {
      # The subnet's network address, masked with the VCN's prefix, must be the VCN's.
      condition     = tonumber(split("/", var.subnet_cidr)[1]) >= tonumber(split("/", var.vcn_cidr)[1]) && cidrhost("${cidrhost(var.subnet_cidr, 0)}/${split("/", var.vcn_cidr)[1]}", 0) == cidrhost(var.vcn_cidr, 0)
      error_message = "subnet_cidr (${var.subnet_cidr}) must lie inside vcn_cidr (${var.vcn_cidr}), e.g. 10.0.0.0/24 inside 10.0.0.0/16."
    }
  }
}
