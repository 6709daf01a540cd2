package dev.telemetry.gateway.connector.spanmetrics;

import com.google.protobuf.Message;
import dev.telemetry.gateway.connector.Connector;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.pipeline.RequestHeaders;
import dev.telemetry.gateway.pipeline.TelemetryConsumer;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.logging.Logger;

/**
 * The span_metrics connector: counts every accepted span into {@link SpanMetrics} and, every flush interval, sends
 * the cumulative metrics into the metrics pipeline. A refused flush (the metrics pipeline is full) loses nothing:
 * the next one carries the same totals.
 */
public final class SpanMetricsConnector implements Connector {
  private static final Logger LOG = Logger.getLogger(SpanMetricsConnector.class.getName());

  private final Vertx vertx;
  private final SpanMetricsConnectorConfig config;
  private final SpanMetrics metrics;
  private TelemetryConsumer downstream;
  private long timer = -1;

  public SpanMetricsConnector(Vertx vertx, SpanMetricsConnectorConfig config, MeterRegistry registry,
                              String instance) {
    this.vertx = vertx;
    this.config = config;
    this.metrics = new SpanMetrics(config.dimensions(), config.bucketsMs().stream().mapToDouble(Double::doubleValue)
        .toArray(), config.cardinalityLimit(),
        config.expiry().toNanos(), Resource.newBuilder()
            .addAttributes(attribute("service.name", "telemetry-gateway"))
            .addAttributes(attribute("service.instance.id", instance)).build());
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

  private static KeyValue attribute(String key, String value) {
    return KeyValue.newBuilder().setKey(key).setValue(AnyValue.newBuilder().setStringValue(value)).build();
  }

  @Override
  public void take(Message request) {
    metrics.add((ExportTraceServiceRequest) request);
  }

  @Override
  public Future<Void> start(TelemetryConsumer downstream) {
    this.downstream = downstream;
    timer = vertx.setPeriodic(config.flushInterval().toMillis(), id -> flush());
    return Future.succeededFuture();
  }

  private Future<Void> flush() {
    ExportMetricsServiceRequest request = metrics.snapshot();
    int points = Signal.METRICS.itemCount(request);
    if (points == 0) {
      return Future.succeededFuture();
    }
    return downstream.consume(config.name(), Signal.METRICS, request, points, request.getSerializedSize(),
        RequestHeaders.NONE).recover(e -> {
          LOG.fine("span_metrics " + config.name() + ": flush refused (" + e.getMessage() + "); the next one "
              + "carries the same totals");
          return Future.succeededFuture();
        });
  }

  @Override
  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return downstream == null ? Future.succeededFuture() : flush();
  }
}
