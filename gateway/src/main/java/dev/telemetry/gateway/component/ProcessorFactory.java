package dev.telemetry.gateway.component;

import dev.telemetry.gateway.config.ProcessorConfig;
import dev.telemetry.gateway.processor.Processor;

/** Builds a stateless processor from its config. */
@FunctionalInterface
public interface ProcessorFactory<C extends ProcessorConfig> {
  Processor create(BuildContext context, C config);
}
