package dev.telemetry.gateway.component;

import dev.telemetry.gateway.config.ProcessorConfig;
import dev.telemetry.gateway.processor.sampling.TailSampler;

/**
 * Builds a sampling stage: a processor that holds spans on its own context and releases whole traces later, so it
 * stands last in its pipeline and is what the cluster shares by trace ID.
 */
@FunctionalInterface
public interface SamplerFactory<C extends ProcessorConfig> {
  TailSampler create(BuildContext context, C config);
}
