package dev.telemetry.gateway.component;

import dev.telemetry.gateway.config.ProcessorConfig;
import dev.telemetry.gateway.processor.Processor;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;

/** Builds a stateless processor from its config. */
@FunctionalInterface
public interface ProcessorFactory<C extends ProcessorConfig> {
  Processor create(Vertx vertx, C config, MeterRegistry registry);
}
