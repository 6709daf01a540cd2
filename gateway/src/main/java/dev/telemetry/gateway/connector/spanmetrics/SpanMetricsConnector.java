package dev.telemetry.gateway.connector.spanmetrics;

import com.google.protobuf.Message;
import dev.telemetry.gateway.connector.Connector;
import dev.telemetry.gateway.connector.MetricsEmitter;
import dev.telemetry.gateway.pipeline.TelemetryConsumer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.Span;
import dev.telemetry.gateway.processor.sampling.DecisionListener;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * The span_metrics connector: counts every accepted span into {@link SpanMetrics} and, every flush interval, sends
 * the cumulative metrics into the metrics pipeline.
 */
public final class SpanMetricsConnector implements Connector {
  private final Vertx vertx;
  private final SpanMetricsConnectorConfig config;
  private final SpanMetrics metrics;
  private final MetricsEmitter emitter;

  public SpanMetricsConnector(Vertx vertx, SpanMetricsConnectorConfig config, MeterRegistry registry,
                              String instance) {
    this.vertx = vertx;
    this.config = config;
    this.metrics = new SpanMetrics(config.dimensions(), config.histogram(), config.cardinalityLimit(),
        config.expiry().toNanos(), Connector.resource(instance));
    this.emitter = new MetricsEmitter(vertx, config.name(), config.flushInterval(), metrics::snapshot);
    FunctionCounter.builder("gateway.connector.span_metrics.overflow.spans", metrics, SpanMetrics::overflowSpans)
        .description("Spans counted in the overflow series (the cardinality limit was reached)")
        .tag("connector", config.name()).register(registry);
    FunctionCounter.builder("gateway.connector.span_metrics.expired.series", metrics, SpanMetrics::expiredSeries)
        .description("Series forgotten after the expiry without new spans").tag("connector", config.name())
        .register(registry);
    Gauge.builder("gateway.connector.span_metrics.series", metrics, SpanMetrics::seriesCount)
        .description("Series tracked (bounded by cardinality_limit)").tag("connector", config.name())
        .register(registry);
  }

  @Override
  public void take(Message request, String tenant) {
    metrics.add((ExportTraceServiceRequest) request);
  }

  /**
   * Spans of kept traces become exemplars; a span is parsed only when a series of its service, kind and status lacks
   * a fresh kept exemplar.
   */
  @Override
  public DecisionListener samplerDecisions() {
    return (traceId, kept, spans) -> {
      if (!kept) {
        return;
      }
      for (DecisionListener.DecidedSpan s : spans.get()) {
        if (!metrics.wantsKeptExemplar(s.resource(), s.kind(), s.statusCode())) {
          continue; // its series have a fresh kept exemplar: no need to parse the span
        }
        try {
          metrics.kept(s.resource(), Span.parseFrom(s.span()));
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new IllegalStateException("a buffered span no longer parses", e); // the sampler encoded it
        }
      }
    };
  }

  @Override
  public Future<Void> start(TelemetryConsumer downstream) {
    return emitter.start(downstream);
  }

  @Override
  public Future<Void> stop() {
    return emitter.stop();
  }
}
