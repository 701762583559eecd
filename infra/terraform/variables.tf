# Every input is checked before Terraform talks to Oracle Cloud: a wrong value fails the plan
# with a sentence that says what to write instead. The patterns use only syntax that RE2
# (Terraform's regex engine) and JavaScript read alike, so test/unit/infra can run them. CIDR
# checks start with cidrnetmask(), which accepts IPv4 only, inside one try(): an IPv6 or
# malformed value is refused before anything else is asked of it.

# --- Where ---------------------------------------------------------------------------------------

variable "region" {
  type        = string
  description = "OCI region identifier; Always Free compute lives in your tenancy's home region (e.g. eu-frankfurt-1)."

  validation {
    condition     = can(regex("^[a-z]{2}-[a-z]+-[0-9]+$", var.region))
    error_message = "region must be an OCI region identifier such as eu-frankfurt-1 or us-ashburn-1 (your tenancy's home region for Always Free)."
  }
}

variable "oci_config_profile" {
  type        = string
  description = "Profile in ~/.oci/config holding the API key Terraform signs with."
  default     = "DEFAULT"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.oci_config_profile))
    error_message = "oci_config_profile must be the name of a [section] in ~/.oci/config, such as DEFAULT."
  }
}

variable "compartment_ocid" {
  type        = string
  description = "Compartment for every resource (the tenancy OCID means the root compartment)."

  validation {
    condition     = can(regex("^ocid1\\.(compartment|tenancy)\\.oc[0-9]+\\.\\.[a-z0-9]+$", var.compartment_ocid))
    error_message = "compartment_ocid must be a compartment or tenancy OCID such as ocid1.compartment.oc1..aaaa… (Identity > Compartments in the console)."
  }
}

variable "availability_domain_number" {
  type        = number
  description = "Which availability domain of the region (1-3). VM.Standard.E2.1.Micro exists in only one of them."
  default     = 1

  validation {
    condition     = var.availability_domain_number >= 1 && var.availability_domain_number <= 3 && floor(var.availability_domain_number) == var.availability_domain_number
    error_message = "availability_domain_number must be 1, 2 or 3 (regions with one availability domain only have 1)."
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of every display name, so that the resources are easy to find in the console."
  default     = "webrtc-lite-turn"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,39}$", var.name_prefix))
    error_message = "name_prefix must start with a lowercase letter and hold at most 40 lowercase letters, digits or hyphens."
  }
}

# --- The TURN host -------------------------------------------------------------------------------

variable "domain" {
  type        = string
  description = "DNS name of the TURN server (an A record you point at the reserved address); also its coturn realm and certificate name."

  validation {
    condition     = length(var.domain) <= 253 && can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", var.domain))
    error_message = "domain must be a fully qualified DNS name in lowercase, such as turn.example.com (no scheme, port or trailing dot)."
  }
}

variable "turn_secret_name" {
  type        = string
  description = "Secret Manager name of the secret getTurnCredentials signs with: projects/<project-id>/secrets/TURN_SHARED_SECRET."

  validation {
    condition     = can(regex("^projects/[a-z0-9-]+/secrets/[A-Za-z0-9_-]{1,255}$", var.turn_secret_name))
    error_message = "turn_secret_name must look like projects/<project-id>/secrets/TURN_SHARED_SECRET (the secret the function uses; the VM reads it, nothing is copied)."
  }
}

variable "kit_url" {
  type        = string
  description = "HTTPS URL where you published the coturn kit (npm run turn:pack makes webrtc-lite-turn-<version>.tgz), e.g. a release asset or an Object Storage pre-authenticated request; the VM installs it with npm, without credentials."

  validation {
    # The URL lands on a shell line of the user data: no spaces, quotes, semicolons or query
    # string (& would end the command). Ending in .tgz, npm takes it for a tarball, never for a
    # git repository (the VM has no git).
    condition     = can(regex("^https://[A-Za-z0-9.-]+(:[0-9]+)?/[A-Za-z0-9._~/@%+-]*\\.tgz$", var.kit_url))
    error_message = "kit_url must be an https:// URL of the kit's .tgz without spaces, quotes or query string, such as https://github.com/your-org/webrtc-lite/releases/download/v0.1.0/webrtc-lite-turn-0.1.0.tgz (the VM fetches it without credentials)."
  }
}

variable "launch_instance" {
  type        = bool
  description = "false: network and reserved address only (then point DNS at it); true: also the VM, whose first boot asks Let's Encrypt for the certificate."
  default     = false
}

# --- Access --------------------------------------------------------------------------------------

variable "operator_ssh_cidr" {
  type        = string
  description = "The only IPv4 network that may reach SSH (22/tcp), e.g. your address as 198.51.100.7/32."

  validation {
    condition     = try(cidrnetmask(var.operator_ssh_cidr) != "" && cidrhost(var.operator_ssh_cidr, 0) == split("/", var.operator_ssh_cidr)[0], false)
    error_message = "operator_ssh_cidr must be an IPv4 network in CIDR form written with its network address, such as 198.51.100.7/32 (one address) or 198.51.100.0/24."
  }

  validation {
    condition     = !endswith(var.operator_ssh_cidr, "/0")
    error_message = "operator_ssh_cidr must not be a /0: SSH would be open to the whole internet; use your own address, such as 198.51.100.7/32."
  }
}

variable "ssh_public_key" {
  type        = string
  description = "OpenSSH public key for the image's default user (one line, as in ~/.ssh/id_ed25519.pub)."

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}( [^\\n]*)?$", trimspace(var.ssh_public_key)))
    error_message = "ssh_public_key must be one OpenSSH public key line such as \"ssh-ed25519 AAAAC3Nza… you@laptop\" (the .pub file, never the private key)."
  }
}

# --- Machine (Always Free) -----------------------------------------------------------------------

variable "image_ocid" {
  type        = string
  description = "OCID of a Debian 12 image in this region (for A1.Flex an arm64 image, for E2.1.Micro an x86_64 one)."

  validation {
    condition     = can(regex("^ocid1\\.image\\.oc[0-9]+\\.[a-z0-9-]+\\.[a-z0-9]+$", var.image_ocid))
    error_message = "image_ocid must be an image OCID such as ocid1.image.oc1.eu-frankfurt-1.aaaa… (Compute > Custom images, or the platform image list of your region)."
  }
}

variable "shape" {
  type        = string
  description = "Always Free shape: VM.Standard.A1.Flex (Arm, sized by ocpus/memory_in_gbs) or VM.Standard.E2.1.Micro (AMD, 1/8 OCPU, 1 GB)."
  default     = "VM.Standard.A1.Flex"

  validation {
    condition     = contains(["VM.Standard.A1.Flex", "VM.Standard.E2.1.Micro"], var.shape)
    error_message = "shape must be an Always Free shape: VM.Standard.A1.Flex or VM.Standard.E2.1.Micro. Anything else is billed."
  }
}

variable "ocpus" {
  type        = number
  description = "OCPUs of a VM.Standard.A1.Flex (Always Free: 4 in total across the tenancy). Ignored for E2.1.Micro."
  default     = 1

  validation {
    condition     = var.ocpus >= 1 && var.ocpus <= 4 && floor(var.ocpus) == var.ocpus
    error_message = "ocpus must be a whole number from 1 to 4: Always Free covers 4 A1 OCPUs in total."
  }
}

variable "memory_in_gbs" {
  type        = number
  description = "Memory of a VM.Standard.A1.Flex in GB (Always Free: 24 in total across the tenancy). Ignored for E2.1.Micro."
  default     = 6

  validation {
    condition     = var.memory_in_gbs >= 1 && var.memory_in_gbs <= 24 && floor(var.memory_in_gbs) == var.memory_in_gbs
    error_message = "memory_in_gbs must be a whole number of GB from 1 to 24: Always Free covers 24 GB of A1 memory in total."
  }
}

variable "boot_volume_size_in_gbs" {
  type        = number
  description = "Boot volume size in GB (Always Free: 200 GB of block storage in total; 50 is the minimum)."
  default     = 50

  validation {
    condition     = var.boot_volume_size_in_gbs >= 50 && var.boot_volume_size_in_gbs <= 200 && floor(var.boot_volume_size_in_gbs) == var.boot_volume_size_in_gbs
    error_message = "boot_volume_size_in_gbs must be a whole number from 50 to 200: Always Free covers 200 GB of block storage in total."
  }
}

# --- Network -------------------------------------------------------------------------------------

variable "vcn_cidr" {
  type        = string
  description = "IPv4 range of the VCN."
  default     = "10.0.0.0/16"

  validation {
    condition     = try(cidrnetmask(var.vcn_cidr) != "" && cidrhost(var.vcn_cidr, 0) == split("/", var.vcn_cidr)[0] && tonumber(split("/", var.vcn_cidr)[1]) >= 16 && tonumber(split("/", var.vcn_cidr)[1]) <= 28, false)
    error_message = "vcn_cidr must be an IPv4 network from /16 to /28 written with its network address, such as 10.0.0.0/16."
  }
}

variable "subnet_cidr" {
  type        = string
  description = "IPv4 range of the public subnet, inside vcn_cidr; the VM takes its 10th address."
  default     = "10.0.0.0/24"

  validation {
    condition     = try(cidrnetmask(var.subnet_cidr) != "" && cidrhost(var.subnet_cidr, 0) == split("/", var.subnet_cidr)[0] && tonumber(split("/", var.subnet_cidr)[1]) >= 16 && tonumber(split("/", var.subnet_cidr)[1]) <= 28, false)
    error_message = "subnet_cidr must be an IPv4 network from /16 to /28 written with its network address, such as 10.0.0.0/24."
  }
}
