package dev.telemetry.gateway.config;

/** A configured processor; {@code type} selects the implementation. */
public sealed interface ProcessorConfig permits EnrichmentProcessorConfig, RedactionProcessorConfig,
    TailSamplingProcessorConfig {
  String name();

  String type();
}
