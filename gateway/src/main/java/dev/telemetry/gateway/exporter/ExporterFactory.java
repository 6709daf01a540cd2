package dev.telemetry.gateway.exporter;

import dev.telemetry.gateway.config.ElasticsearchExporterConfig;
import dev.telemetry.gateway.config.ExporterConfig;
import dev.telemetry.gateway.exporter.elasticsearch.ElasticsearchExporter;
import dev.telemetry.gateway.config.FileExporterConfig;
import dev.telemetry.gateway.config.OtlpExporterConfig;
import dev.telemetry.gateway.config.PrometheusRemoteWriteExporterConfig;
import dev.telemetry.gateway.exporter.prometheus.PrometheusRemoteWriteExporter;
import io.micrometer.core.instrument.MeterRegistry;
import dev.telemetry.gateway.exporter.file.FileExporter;
import dev.telemetry.gateway.exporter.otlp.OtlpGrpcExporter;
import dev.telemetry.gateway.otlp.Signal;
import io.vertx.core.Vertx;

/** Builds the exporter for a config record; the config loader has already rejected unknown types. */
public final class ExporterFactory {
  private ExporterFactory() {
  }

  public static Exporter create(Vertx vertx, ExporterConfig config, Signal signal, MeterRegistry registry) {
    if (config instanceof OtlpExporterConfig c) {
      return new OtlpGrpcExporter(vertx, c, signal);
    }
    if (config instanceof FileExporterConfig c) {
      return new FileExporter(vertx, c, signal);
    }
    if (config instanceof PrometheusRemoteWriteExporterConfig c) {
      return new PrometheusRemoteWriteExporter(vertx, c, registry);
    }
    if (config instanceof ElasticsearchExporterConfig c) {
      return new ElasticsearchExporter(vertx, c, registry);
    }
    throw new IllegalArgumentException("no exporter for type " + config.type());
  }
}
