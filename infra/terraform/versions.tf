# Pinned so that a plan means the same thing on every operator's machine: Terraform 1.5+ for
# strcontains() and check-free preconditions, the OCI provider's 5.x line (no 6.x surprises).
terraform {
  required_version = "~> 1.5"

  required_providers {
    oci = {
      source  = "oracle/oci"
      version = "~> 5.0"
    }
  }
}

# Authenticates with the API key in ~/.oci/config (the `oci setup config` layout): nothing
# secret lives in this folder or in the state's inputs.
provider "oci" {
  region              = var.region
  config_file_profile = var.oci_config_profile
}
