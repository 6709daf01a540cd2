package dev.telemetry.gateway.config;

/**
 * A configured connector: the exporter of one signal's pipeline and a receiver of another's (span_metrics: traces
 * in, metrics out). Pipelines name it in {@code exporters} on one side and {@code receivers} on the other.
 */
public interface ConnectorConfig {
  String name();

  String type();
}
