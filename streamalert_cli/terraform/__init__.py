"""The Terraform of a deployment: one context function per module, the HCL quoting, rendering, the runner."""
