output "stack" {
  description = "Everything the stack outputs (../modules/stack/outputs.tf), for the emulator's stack."
  value       = module.stack
}
