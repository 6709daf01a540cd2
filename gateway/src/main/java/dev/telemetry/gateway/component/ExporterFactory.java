package dev.telemetry.gateway.component;

import dev.telemetry.gateway.config.ExporterConfig;
import dev.telemetry.gateway.exporter.Exporter;
import dev.telemetry.gateway.otlp.Signal;

/** Builds the exporter for one signal from its config; the queue in front of it is the pipeline's. */
@FunctionalInterface
public interface ExporterFactory<C extends ExporterConfig> {
  Exporter create(BuildContext context, C config, Signal signal);
}
