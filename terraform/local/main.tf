# Emulator root module: the production stack (../modules/stack, the same module
# the production root deploys) with every name and setting at its default.

locals {
  lambda_zip_path = startswith(var.lambda_zip_path, "/") ? var.lambda_zip_path : "${path.module}/${var.lambda_zip_path}"
}

module "stack" {
  source = "../modules/stack"

  lambda_zip_path = local.lambda_zip_path
  momento_api_key = var.momento_api_key
}
