package dev.telemetry.gateway.config;

/** A configured exporter; every exporter sits behind its own bounded queue and batcher. */
public sealed interface ExporterConfig permits OtlpExporterConfig, FileExporterConfig, PrometheusRemoteWriteExporterConfig,
    ElasticsearchExporterConfig {
  String name();

  String type();

  QueueConfig queue();

  BatchConfig batch();

  RetryConfig retry();
}
