# The TURN VM and its reserved public address.
#
# Why the address is looked up instead of referenced: the user data must carry the public
# address (coturn's external-ip), so it has to exist before the VM; but attaching it needs the
# VM's private IP, so the reservation also depends on the VM. Referencing the resource both ways
# is a cycle. The VM therefore reads the reservation through a data source (by display name),
# and the reservation is created in a first apply (launch_instance = false), which is also when
# the operator points DNS at it: certbot asks Let's Encrypt for the certificate on first boot,
# so the A record must resolve before the VM exists.

locals {
  public_ip_name = "${var.name_prefix}-ip"
  # "" until the first apply has reserved the address (the precondition below explains).
  public_ip = try(data.oci_core_public_ips.reserved.public_ips[0].ip_address, "")
}

data "oci_identity_availability_domains" "all" {
  compartment_id = var.compartment_ocid
}

# Read at plan time: no reference to a resource of this configuration (see the top of the file).
data "oci_core_public_ips" "reserved" {
  compartment_id = var.compartment_ocid
  scope          = "REGION"
  lifetime       = "RESERVED"

  filter {
    name   = "display_name"
    values = [local.public_ip_name]
  }
}

resource "oci_core_public_ip" "turn" {
  compartment_id = var.compartment_ocid
  lifetime       = "RESERVED"
  display_name   = local.public_ip_name
  private_ip_id  = var.launch_instance ? data.oci_core_private_ips.turn[0].private_ips[0].id : null
}

resource "oci_core_instance" "turn" {
  count = var.launch_instance ? 1 : 0

  availability_domain = data.oci_identity_availability_domains.all.availability_domains[var.availability_domain_number - 1].name
  compartment_id      = var.compartment_ocid
  display_name        = var.name_prefix
  shape               = var.shape

  # Only the flexible shape takes a size; E2.1.Micro is fixed at 1/8 OCPU and 1 GB.
  dynamic "shape_config" {
    for_each = var.shape == "VM.Standard.A1.Flex" ? [1] : []
    content {
      ocpus         = var.ocpus
      memory_in_gbs = var.memory_in_gbs
    }
  }

  source_details {
    source_type             = "image"
    source_id               = var.image_ocid
    boot_volume_size_in_gbs = var.boot_volume_size_in_gbs
  }

  create_vnic_details {
    subnet_id        = oci_core_subnet.turn.id
    private_ip       = local.private_ip
    display_name     = "${var.name_prefix}-vnic"
    # No ephemeral address: the reserved one is attached to this VNIC's private IP instead.
    assign_public_ip = false
  }

  metadata = {
    ssh_authorized_keys = trimspace(var.ssh_public_key)
    user_data           = base64encode(local.user_data)
  }

  lifecycle {
    # OCI cannot change user data after launch; a kit change reaches a running host only through
    # `terraform apply -replace='oci_core_instance.turn[0]'` (the address and DNS stay).
    ignore_changes = [metadata["user_data"]]

    precondition {
      condition     = local.public_ip != ""
      error_message = "No reserved public IP named ${local.public_ip_name} exists yet: run terraform apply with launch_instance = false first, point the DNS A record of ${var.domain} at the address it prints, then apply with launch_instance = true."
    }

    precondition {
      condition     = length(local.kit_lines_missing) == 0
      error_message = "turn/cloud-init.yaml no longer contains these example lines, so this host's values cannot be put in their place: ${join("; ", local.kit_lines_missing)}. Update cloud_init_lines in kit.tf to match the kit."
    }

    precondition {
      condition     = var.shape != "VM.Standard.A1.Flex" || var.memory_in_gbs >= var.ocpus
      error_message = "A VM.Standard.A1.Flex needs at least 1 GB of memory per OCPU: raise memory_in_gbs to ${var.ocpus} or more."
    }
  }
}

# The VM's primary private IP, to which the reserved address is attached.
data "oci_core_vnic_attachments" "turn" {
  count          = var.launch_instance ? 1 : 0
  compartment_id = var.compartment_ocid
  instance_id    = oci_core_instance.turn[0].id
}

data "oci_core_private_ips" "turn" {
  count   = var.launch_instance ? 1 : 0
  vnic_id = data.oci_core_vnic_attachments.turn[0].vnic_attachments[0].vnic_id

  filter {
    name   = "is_primary"
    values = ["true"]
  }
}
