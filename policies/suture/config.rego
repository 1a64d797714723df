# Thresholds read from the policy config (input.config, built from .suture/policy.yaml), with the defaults
# documented in policies/README.md.
package suture

default max_source_lines := 40

max_source_lines := input.config.thresholds.maxSourceLines if is_number(input.config.thresholds.maxSourceLines)

default min_confidence := 0.5

min_confidence := input.config.thresholds.minConfidence if is_number(input.config.thresholds.minConfidence)

# Registry prefixes images may come from (images.allowedRegistries); empty means any registry.
default allowed_registries := []

allowed_registries := input.config.images.allowedRegistries if is_array(input.config.images.allowedRegistries)
