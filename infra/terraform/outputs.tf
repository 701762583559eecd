# What the operator copies elsewhere after `terraform apply`: the A record into DNS, the
# TURN_URIS line into functions/.env.<project-id>, and the probe command for the check.

output "public_ip" {
  description = "The reserved public address of the TURN host (it survives a replaced VM)."
  value       = oci_core_public_ip.turn.ip_address
}

output "dns_a_record" {
  description = "The DNS record to create before launch_instance = true: certbot needs it on the VM's first boot."
  value = {
    name  = var.domain
    type  = "A"
    value = oci_core_public_ip.turn.ip_address
  }
}

output "turn_uris" {
  description = "The line for functions/.env.<project-id> (getTurnCredentials' TURN_URIS param)."
  value       = "TURN_URIS=${join(",", local.turn_uris)}"
}

output "probe_command" {
  description = "Checks the host from your workstation once cloud-init has finished (see infra/terraform/README.md)."
  value       = "npm run turn:probe -- ${local.probe_uris}"
}

output "ssh_command" {
  description = "SSH to the VM as the image's default user (debian on Debian's cloud images)."
  value       = "ssh debian@${oci_core_public_ip.turn.ip_address}"
}
