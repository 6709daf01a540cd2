package dev.telemetry.gateway.config;

import java.nio.file.Path;

/** A configured exporter; every exporter sits behind its own bounded queue and batcher. */
public interface ExporterConfig {
  String name();

  String type();

  QueueConfig queue();

  BatchConfig batch();

  RetryConfig retry();

  /** A directory it writes alone (the loader rejects two exporters sharing one), or null. */
  default Path exclusiveDirectory() {
    return null;
  }
}
