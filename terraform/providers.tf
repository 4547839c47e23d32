# Production provider: credentials come from the usual AWS chain (environment,
# shared config/SSO profile, instance or CI role); only the region is set here.
provider "aws" {
  region = var.region

  default_tags {
    tags = var.tags
  }
}
