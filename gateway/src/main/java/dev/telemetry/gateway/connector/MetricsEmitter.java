package dev.telemetry.gateway.connector;

import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.pipeline.RequestHeaders;
import dev.telemetry.gateway.pipeline.TelemetryConsumer;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * Sends a connector's cumulative metrics into the metrics pipeline every flush interval, as the receiver named like
 * the connector, and once more at stop. A refused flush (the metrics pipeline is full) loses nothing: the values are
 * cumulative, the next flush carries the same totals.
 */
public final class MetricsEmitter {
  private static final Logger LOG = Logger.getLogger(MetricsEmitter.class.getName());

  private final Vertx vertx;
  private final String name;
  private final Duration interval;
  private final Supplier<ExportMetricsServiceRequest> snapshot;
  private TelemetryConsumer downstream;
  private long timer = -1;

  public MetricsEmitter(Vertx vertx, String name, Duration interval, Supplier<ExportMetricsServiceRequest> snapshot) {
    this.vertx = vertx;
    this.name = name;
    this.interval = interval;
    this.snapshot = snapshot;
  }

  public Future<Void> start(TelemetryConsumer downstream) {
    this.downstream = downstream;
    timer = vertx.setPeriodic(interval.toMillis(), id -> flush());
    return Future.succeededFuture();
  }

  public Future<Void> flush() {
    ExportMetricsServiceRequest request = snapshot.get();
    int points = Signal.METRICS.itemCount(request);
    if (points == 0) {
      return Future.succeededFuture();
    }
    return downstream.consume(name, Signal.METRICS, request, points, request.getSerializedSize(),
        RequestHeaders.NONE).recover(e -> {
          LOG.fine(name + ": flush refused (" + e.getMessage() + "); the next one carries the same totals");
          return Future.succeededFuture();
        });
  }

  /** Emits once more, then stops. */
  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return downstream == null ? Future.succeededFuture() : flush();
  }
}
