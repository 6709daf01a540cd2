package dev.telemetry.gateway.component;

import dev.telemetry.gateway.config.ConfigLoader;
import dev.telemetry.gateway.connector.spanmetrics.SpanMetricsConnector;
import dev.telemetry.gateway.connector.spanmetrics.SpanMetricsConnectorConfig;
import dev.telemetry.gateway.connector.genai.GenAiMetricsConnector;
import dev.telemetry.gateway.connector.genai.GenAiMetricsConnectorConfig;
import dev.telemetry.gateway.connector.servicegraph.ServiceGraphConnector;
import dev.telemetry.gateway.connector.servicegraph.ServiceGraphConnectorConfig;
import dev.telemetry.gateway.otlp.Signal;
import java.util.Set;
import dev.telemetry.gateway.exporter.elasticsearch.ElasticsearchExporter;
import dev.telemetry.gateway.exporter.elasticsearch.ElasticsearchExporterConfig;
import dev.telemetry.gateway.exporter.file.FileExporter;
import dev.telemetry.gateway.exporter.file.FileExporterConfig;
import dev.telemetry.gateway.exporter.otlp.OtlpExporterConfig;
import dev.telemetry.gateway.exporter.otlp.OtlpGrpcExporter;
import dev.telemetry.gateway.exporter.prometheus.PrometheusRemoteWriteExporter;
import dev.telemetry.gateway.exporter.prometheus.PrometheusRemoteWriteExporterConfig;
import dev.telemetry.gateway.processor.enrichment.EnrichmentProcessor;
import dev.telemetry.gateway.processor.enrichment.EnrichmentProcessorConfig;
import dev.telemetry.gateway.processor.redaction.RedactionProcessor;
import dev.telemetry.gateway.processor.redaction.RedactionProcessorConfig;
import dev.telemetry.gateway.processor.sampling.TailSampler;
import dev.telemetry.gateway.processor.sampling.TailSamplingProcessorConfig;
import dev.telemetry.gateway.receiver.otlp.OtlpReceiver;
import dev.telemetry.gateway.receiver.otlp.OtlpReceiverConfig;

/**
 * The built-in components: adding one is its package (config record with a {@code read} method, implementation) plus
 * one line here.
 */
public final class Components {
  private Components() {
  }

  public static final ComponentRegistry BUILT_IN = ComponentRegistry.builder()
      .receiver(OtlpReceiverConfig.TYPE, OtlpReceiverConfig::read, (ctx, c, consumer) -> new OtlpReceiver(
          ctx.vertx(), c, consumer, ctx.registry(), Math.max(1, Runtime.getRuntime().availableProcessors()),
          ctx.heap()))
      .processor(EnrichmentProcessorConfig.TYPE, EnrichmentProcessorConfig::read,
          (ctx, c) -> new EnrichmentProcessor(ctx.vertx(), c, ctx.registry()))
      .processor(RedactionProcessorConfig.TYPE, RedactionProcessorConfig::read,
          (ctx, c) -> new RedactionProcessor(c, ctx.registry()))
      .sampler(TailSamplingProcessorConfig.TYPE, TailSamplingProcessorConfig::read,
          (ctx, c) -> new TailSampler(c, ctx.registry(), ctx.heap()))
      .exporter(OtlpExporterConfig.TYPE, OtlpExporterConfig::read,
          (ctx, c, signal) -> new OtlpGrpcExporter(ctx.vertx(), c, signal))
      .exporter(FileExporterConfig.TYPE, FileExporterConfig::read,
          (ctx, c, signal) -> new FileExporter(ctx.vertx(), c, signal))
      .exporter(PrometheusRemoteWriteExporterConfig.TYPE, Set.of(Signal.METRICS),
          PrometheusRemoteWriteExporterConfig::read,
          (ctx, c, signal) -> new PrometheusRemoteWriteExporter(ctx.vertx(), c, ctx.registry()))
      .exporter(ElasticsearchExporterConfig.TYPE, Set.of(Signal.LOGS), ElasticsearchExporterConfig::read,
          (ctx, c, signal) -> new ElasticsearchExporter(ctx.vertx(), c, ctx.registry()))
      .connector(SpanMetricsConnectorConfig.TYPE, Set.of(Signal.TRACES), Signal.METRICS,
          SpanMetricsConnectorConfig::read,
          (ctx, c) -> new SpanMetricsConnector(ctx.vertx(), c, ctx.registry(), ctx.instance()))
      .connector(ServiceGraphConnectorConfig.TYPE, Set.of(Signal.TRACES), Signal.METRICS,
          ServiceGraphConnectorConfig::read,
          (ctx, c) -> new ServiceGraphConnector(ctx.vertx(), c, ctx.registry(), ctx.instance()))
      .connector(GenAiMetricsConnectorConfig.TYPE, Set.of(Signal.TRACES, Signal.METRICS), Signal.METRICS,
          GenAiMetricsConnectorConfig::read,
          (ctx, c) -> new GenAiMetricsConnector(ctx.vertx(), c, ctx.registry(), ctx.instance()))
      .build();

  /** A config loader for the built-in components that reads the process environment. */
  public static ConfigLoader configLoader() {
    return BUILT_IN.configLoader(System::getenv);
  }
}
