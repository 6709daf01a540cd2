package dev.telemetry.gateway.exporter.prometheus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.telemetry.gateway.config.BatchConfig;
import dev.telemetry.gateway.exporter.prometheus.PrometheusRemoteWriteExporterConfig;
import dev.telemetry.gateway.config.RetryConfig;
import dev.telemetry.gateway.exporter.ExportException;
import dev.telemetry.gateway.exporter.ExportResult;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.proto.prometheus.TimeSeries;
import dev.telemetry.proto.prometheus.WriteRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The sender's protocol behaviour against a scripted remote-write endpoint. */
class PrometheusRemoteWriteExporterTest {
  final Vertx vertx = Vertx.vertx();
  final int port = Ports.free();
  final List<WriteRequest> received = new CopyOnWriteArrayList<>();
  final List<MultiMap> headers = new CopyOnWriteArrayList<>();
  final AtomicInteger calls = new AtomicInteger();
  volatile IntUnaryOperator status = n -> 204;
  volatile String retryAfter;
  HttpServer server;
  PrometheusRemoteWriteExporter exporter;
  io.vertx.core.Context context;

  @BeforeEach
  void start() throws Exception {
    server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      int n = calls.incrementAndGet();
      int code = status.applyAsInt(n);
      headers.add(req.headers());
      if (code / 100 == 2) {
        try {
          received.add(WriteRequest.parseFrom(Snappy.decompress(body.getBytes())));
        } catch (Exception e) {
          code = 400;
        }
      }
      if (retryAfter != null) {
        req.response().putHeader("Retry-After", retryAfter);
      }
      req.response().setStatusCode(code).end(code >= 400 ? "scripted failure " + code : "");
    })).listen(port, "127.0.0.1").await(10, TimeUnit.SECONDS);
    PrometheusRemoteWriteExporterConfig config = new PrometheusRemoteWriteExporterConfig("p",
        URI.create("http://127.0.0.1:" + port + "/api/v1/write"), Duration.ofSeconds(5), Map.of("X-Scope-OrgID", "t1"),
        Map.of(), true, false, false, List.of(), 3, 5, 1 << 20, 1000, Duration.ofMinutes(5),
        PrometheusRemoteWriteExporterConfig.DEFAULT_QUEUE, BatchConfig.DEFAULTS, RetryConfig.DEFAULTS);
    exporter = new PrometheusRemoteWriteExporter(vertx, config, new SimpleMeterRegistry());
    // As in production (ExporterQueue), the exporter is driven from one event-loop context.
    context = vertx.getOrCreateContext(); // from the test thread: a new event-loop context
    onContext(() -> exporter.start()).await(5, TimeUnit.SECONDS);
  }

  <T> io.vertx.core.Future<T> onContext(java.util.function.Supplier<io.vertx.core.Future<T>> call) {
    io.vertx.core.Promise<T> p = io.vertx.core.Promise.promise();
    context.runOnContext(v -> call.get().onComplete(p));
    return p.future();
  }

  ExportResult export(ExportMetricsServiceRequest request, int items) throws Exception {
    return onContext(() -> exporter.export(request, items)).await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    onContext(() -> exporter.stop()).await(5, TimeUnit.SECONDS);
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** {@code series} gauge series with one point each, at time {@code t} seconds. */
  static ExportMetricsServiceRequest gauges(int series, long t) {
    Gauge.Builder g = Gauge.newBuilder();
    for (int i = 0; i < series; i++) {
      g.addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(t * 1_000_000_000L).setAsDouble(i)
          .addAttributes(KeyValue.newBuilder().setKey("i").setValue(AnyValue.newBuilder().setIntValue(i))));
    }
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .addScopeMetrics(ScopeMetrics.newBuilder().addMetrics(Metric.newBuilder().setName("g").setGauge(g)))).build();
  }

  static List<TimeSeries> all(List<WriteRequest> requests) {
    List<TimeSeries> out = new ArrayList<>();
    requests.forEach(r -> out.addAll(r.getTimeseriesList()));
    return out;
  }

  @Test
  void sendsSnappyProtobufWithTheSpecHeadersInBoundedShardedRequests() throws Exception {
    assertThat(export(gauges(40, 1_700_000_000L), 40)).isEqualTo(ExportResult.OK);
    assertThat(headers).allSatisfy(h -> {
      assertThat(h.get("Content-Encoding")).isEqualTo("snappy");
      assertThat(h.get("Content-Type")).isEqualTo("application/x-protobuf");
      assertThat(h.get("X-Prometheus-Remote-Write-Version")).isEqualTo("0.1.0");
      assertThat(h.get("User-Agent")).startsWith("telemetry-gateway/");
      assertThat(h.get("X-Scope-OrgID")).isEqualTo("t1");
    });
    assertThat(received).allSatisfy(r -> assertThat(r.getTimeseriesCount()).isLessThanOrEqualTo(5));
    assertThat(all(received)).hasSize(40);
    assertThat(received.size()).isGreaterThanOrEqualTo(8);

    // A series always goes through the same shard, so its samples keep their order across batches.
    export(gauges(40, 1_700_000_010L), 40);
    Map<String, List<Long>> timestamps = new HashMap<>();
    for (TimeSeries ts : all(received)) {
      timestamps.computeIfAbsent(ts.getLabelsList().toString(), k -> new ArrayList<>())
          .add(ts.getSamples(0).getTimestamp());
    }
    assertThat(timestamps).hasSize(40).allSatisfy((k, v) -> assertThat(v).containsExactly(1_700_000_000_000L,
        1_700_000_010_000L));
  }

  @Test
  void aRetryResumesWhereEachShardStopped() throws Exception {
    status = n -> n == 2 ? 503 : 204;
    ExportMetricsServiceRequest request = gauges(40, 1_700_000_000L);
    assertThatThrownBy(() -> export(request, 40))
        .isInstanceOfSatisfying(ExportException.class, e -> assertThat(e.retryable()).isTrue());
    int afterFirstAttempt = received.size();
    assertThat(export(request, 40)).isEqualTo(ExportResult.OK);
    List<TimeSeries> series = all(received);
    assertThat(series).hasSize(40); // nothing Prometheus already took was sent twice
    assertThat(received.size()).isGreaterThan(afterFirstAttempt);
  }

  @Test
  void tooManyRequestsIsRetryableWithTheServersDelay() throws Exception {
    status = n -> 429;
    retryAfter = "7";
    assertThatThrownBy(() -> export(gauges(1, 1_700_000_000L), 1))
        .isInstanceOfSatisfying(ExportException.class, e -> {
          assertThat(e.retryable()).isTrue();
          assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(7));
        });
  }

  @Test
  void aBadRequestIsRejectedNotRetried() throws Exception {
    status = n -> 400;
    ExportResult r = export(gauges(3, 1_700_000_000L), 3);
    assertThat(r.rejected()).isEqualTo(3);
    assertThat(r.message()).contains("HTTP 400: scripted failure 400");
    assertThat(calls.get()).isLessThanOrEqualTo(3); // one request per shard at most, none repeated
  }

  @Test
  void classificationAndRetryAfterParsing() throws Exception {
    assertThat(PrometheusRemoteWriteExporter.classify(204, null, null)).isNull();
    assertThat(PrometheusRemoteWriteExporter.classify(500, null, null).retryable()).isTrue();
    assertThat(PrometheusRemoteWriteExporter.classify(404, null, null).retryable()).isFalse();
    assertThat(PrometheusRemoteWriteExporter.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT")).isEqualTo(Duration.ZERO);
    assertThat(PrometheusRemoteWriteExporter.parseRetryAfter("soon")).isNull();
  }
}
