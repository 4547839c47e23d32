# Emulator root module: the production stack (../modules/stack, the same module
# the production root deploys) with every setting at its default, except what
# only makes sense on an emulator: the article's sample items are seeded and
# the table may be destroyed.

locals {
  lambda_zip_path = startswith(var.lambda_zip_path, "/") ? var.lambda_zip_path : "${path.module}/${var.lambda_zip_path}"
}

module "stack" {
  source = "../modules/stack"

  lambda_zip_path = local.lambda_zip_path
  lambda          = { architecture = var.lambda_architecture }
  naming          = { prefix = var.name_prefix }
  mapping         = var.mapping
  momento_api_key = var.momento_api_key
  key = {
    parameter_arn = var.momento_api_key_parameter_arn
    version       = var.momento_api_key_version
    description   = var.momento_api_key_parameter_description
    kms_key_arn   = var.momento_api_key_kms_key_arn
  }

  # The records the producer writes refer to these (seed-article.txt).
  table = {
    deletion_protection_enabled = false
    seed_items = [
      { location = "Car", description = "Car description", notes = "Car notes" },
      { location = "Diner", description = "Diner description", notes = "Diner notes" },
      { location = "House", description = "House description", notes = "House notes" },
    ]
  }
}
