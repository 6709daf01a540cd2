package dev.telemetry.gateway.component;

import dev.telemetry.gateway.config.ExporterConfig;
import dev.telemetry.gateway.exporter.Exporter;
import dev.telemetry.gateway.otlp.Signal;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;

/** Builds the exporter for one signal from its config; the queue in front of it is the pipeline's. */
@FunctionalInterface
public interface ExporterFactory<C extends ExporterConfig> {
  Exporter create(Vertx vertx, C config, Signal signal, MeterRegistry registry);
}
