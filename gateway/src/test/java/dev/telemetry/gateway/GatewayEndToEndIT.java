package dev.telemetry.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.otlp.OtlpJson;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Flattened;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.SdkTelemetry;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real OpenTelemetry Java SDK exporters (gRPC and HTTP/protobuf) and raw OTLP/JSON send traces, metrics and logs
 * through the gateway to an in-process OTLP/gRPC backend standing in for Jaeger; every item must arrive exactly as
 * the SDK encoded it — IDs, names, kinds, status, attributes, events, resource and scope.
 */
class GatewayEndToEndIT {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "exporters": {"jaeger": {"type": "otlp", "endpoint": "{{SINK}}", "timeout": "5s", "compression": "gzip",
          "headers": {"x-scope-orgid": "acme"}, "batch": {"timeout": "20ms"},
          "retry": {"initial_interval": "20ms", "max_interval": "100ms"}}},
        "pipelines": {
          "traces": {"receivers": ["otlp"], "exporters": ["jaeger"]},
          "metrics": {"receivers": ["otlp"], "exporters": ["jaeger"]},
          "logs": {"receivers": ["otlp"], "exporters": ["jaeger"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "warn"},
        "shutdown_timeout": "5s"
      }""";

  static Vertx sinkVertx;
  static OtlpSink sink;
  static GatewayHarness gw;
  static final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    sinkVertx = Vertx.vertx();
    sink = new OtlpSink(sinkVertx, Ports.free()).start();
    gw = GatewayHarness.start(CONFIG, Map.of("SINK", sink.endpoint()));
  }

  @AfterAll
  static void stop() throws Exception {
    gw.close();
    sink.close();
    sinkVertx.close().await(10, TimeUnit.SECONDS);
  }

  private static void assertSuccess(CompletableResultCode result) {
    result.join(15, TimeUnit.SECONDS);
    assertThat(result.isSuccess()).as("SDK export succeeded").isTrue();
  }

  private static List<ExportTraceServiceRequest> tracesOf(String service) {
    List<ExportTraceServiceRequest> out = new ArrayList<>();
    for (ExportTraceServiceRequest r : sink.traceRequests()) {
      ExportTraceServiceRequest.Builder b = ExportTraceServiceRequest.newBuilder();
      r.getResourceSpansList().stream().filter(rs -> rs.getResource().getAttributesList().stream()
          .anyMatch(kv -> kv.getKey().equals("service.name") && kv.getValue().getStringValue().equals(service)))
          .forEach(b::addResourceSpans);
      out.add(b.build());
    }
    return out;
  }

  @Test
  void sdkGrpcSpansArriveIntact() throws Exception {
    List<SpanData> spans = SdkTelemetry.spans("checkout-grpc", 20);
    try (OtlpGrpcSpanExporter exporter = OtlpGrpcSpanExporter.builder().setEndpoint(gw.grpcEndpoint()).build()) {
      assertSuccess(exporter.export(spans));
    }
    var expected = Flattened.spans(List.of(SdkTelemetry.expectedTraces(spans)));
    Await.until("60 spans at the backend", Duration.ofSeconds(15),
        () -> Flattened.spans(tracesOf("checkout-grpc")).size() >= 60);
    assertThat(Flattened.spans(tracesOf("checkout-grpc"))).isEqualTo(expected);
    // Spot-check the fields the issue names, so a failure reads clearly.
    Span error = expected.stream().map(i -> (Span) i.item()).filter(s -> s.getName().equals("SELECT carts"))
        .findFirst().orElseThrow();
    assertThat(error.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_CLIENT);
    assertThat(error.getStatus().getMessage()).isEqualTo("deadline exceeded");
    assertThat(error.getParentSpanId().size()).isEqualTo(8);
  }

  @Test
  void sdkHttpProtobufSpansArriveIntact() throws Exception {
    List<SpanData> spans = SdkTelemetry.spans("checkout-http", 10);
    try (OtlpHttpSpanExporter exporter = OtlpHttpSpanExporter.builder()
        .setEndpoint(gw.httpBase() + "/v1/traces").setCompression("gzip").build()) {
      assertSuccess(exporter.export(spans));
    }
    var expected = Flattened.spans(List.of(SdkTelemetry.expectedTraces(spans)));
    Await.until("30 spans at the backend", Duration.ofSeconds(15),
        () -> Flattened.spans(tracesOf("checkout-http")).size() >= 30);
    assertThat(Flattened.spans(tracesOf("checkout-http"))).isEqualTo(expected);
  }

  @Test
  void sdkMetricsOverGrpcAndHttpArriveIntact() throws Exception {
    Collection<MetricData> viaGrpc = SdkTelemetry.metrics("metrics-grpc");
    Collection<MetricData> viaHttp = SdkTelemetry.metrics("metrics-http");
    try (OtlpGrpcMetricExporter g = OtlpGrpcMetricExporter.builder().setEndpoint(gw.grpcEndpoint()).build();
         OtlpHttpMetricExporter h = OtlpHttpMetricExporter.builder()
             .setEndpoint(gw.httpBase() + "/v1/metrics").build()) {
      assertSuccess(g.export(viaGrpc));
      assertSuccess(h.export(viaHttp));
    }
    List<Flattened.Item> expected = new ArrayList<>(Flattened.metrics(List.of(
        SdkTelemetry.expectedMetrics(viaGrpc), SdkTelemetry.expectedMetrics(viaHttp))));
    Await.until("8 metrics at the backend", Duration.ofSeconds(15),
        () -> Flattened.metrics(sink.metricRequests()).size() >= 8);
    assertThat(Flattened.metrics(sink.metricRequests())).isEqualTo(expected);
  }

  @Test
  void sdkLogsOverGrpcAndHttpArriveIntactWithTraceContext() throws Exception {
    List<LogRecordData> viaGrpc = SdkTelemetry.logs("logs-grpc", 15);
    List<LogRecordData> viaHttp = SdkTelemetry.logs("logs-http", 15);
    try (OtlpGrpcLogRecordExporter g = OtlpGrpcLogRecordExporter.builder().setEndpoint(gw.grpcEndpoint()).build();
         OtlpHttpLogRecordExporter h = OtlpHttpLogRecordExporter.builder()
             .setEndpoint(gw.httpBase() + "/v1/logs").build()) {
      assertSuccess(g.export(viaGrpc));
      assertSuccess(h.export(viaHttp));
    }
    var expected = Flattened.logs(List.of(SdkTelemetry.expectedLogs(viaGrpc), SdkTelemetry.expectedLogs(viaHttp)));
    Await.until("30 log records at the backend", Duration.ofSeconds(15),
        () -> Flattened.logs(sink.logRequests()).size() >= 30);
    assertThat(Flattened.logs(sink.logRequests())).isEqualTo(expected);
    assertThat(expected).allSatisfy(i -> assertThat(
        ((io.opentelemetry.proto.logs.v1.LogRecord) i.item()).getTraceId().size()).isEqualTo(16));
  }

  @Test
  void rawJsonIsAcceptedAndForwardedAsProtobuf() throws Exception {
    String json = """
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"json-svc"}}]},
          "scopeSpans":[{"scope":{"name":"raw","version":"9"},"spans":[
            {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee19b7ec3c1b174",
             "parentSpanId":"eee19b7ec3c1b173","name":"json span","kind":3,
             "startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
             "attributes":[{"key":"n","value":{"intValue":"42"}},{"key":"d","value":{"doubleValue":1.5}}],
             "status":{"code":2,"message":"boom"},"unknownField":{"ignored":true}}]}]}]}""";
    HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/traces"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(resp.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(resp.body()).isEqualTo("{}");
    Await.until("the JSON span at the backend", Duration.ofSeconds(15),
        () -> !Flattened.spans(tracesOf("json-svc")).isEmpty());
    Span s = (Span) Flattened.spans(tracesOf("json-svc")).get(0).item();
    assertThat(OtlpJson.toHex(s.getTraceId())).isEqualTo("5b8efff798038103d269b633813fc60c");
    assertThat(OtlpJson.toHex(s.getSpanId())).isEqualTo("eee19b7ec3c1b174");
    assertThat(OtlpJson.toHex(s.getParentSpanId())).isEqualTo("eee19b7ec3c1b173");
    assertThat(s.getKind()).isEqualTo(Span.SpanKind.SPAN_KIND_CLIENT);
    assertThat(s.getStartTimeUnixNano()).isEqualTo(1544712660000000000L);
    assertThat(s.getEndTimeUnixNano()).isEqualTo(1544712661000000000L);
    assertThat(s.getAttributes(0).getValue().getIntValue()).isEqualTo(42);
    assertThat(s.getAttributes(1).getValue().getDoubleValue()).isEqualTo(1.5);
    assertThat(s.getStatus().getCodeValue()).isEqualTo(2);
  }

  @Test
  void invalidItemsAreRejectedWithPartialSuccessAndTheRestDelivered() throws Exception {
    String json = """
        {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"partial-svc"}}]},
          "scopeSpans":[{"spans":[
            {"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"good"},
            {"traceId":"0af7651916cd43dd","spanId":"b7ad6b7169203332","name":"short trace id"}]}]}]}""";
    HttpResponse<byte[]> resp = http.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/traces"))
        .header("Content-Type", "application/x-protobuf")
        .POST(HttpRequest.BodyPublishers.ofByteArray(dev.telemetry.gateway.otlp.OtlpJson.parse(
            json.getBytes(), Signal.TRACES.newRequestBuilder()).toByteArray())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(resp.statusCode()).isEqualTo(200);
    ExportTraceServiceResponse r = ExportTraceServiceResponse.parseFrom(resp.body());
    assertThat(r.getPartialSuccess().getRejectedSpans()).isEqualTo(1);
    assertThat(r.getPartialSuccess().getErrorMessage()).contains("short trace id").contains("trace_id");
    Await.until("the valid span at the backend", Duration.ofSeconds(15),
        () -> Flattened.spans(tracesOf("partial-svc")).size() == 1);
    assertThat(((Span) Flattened.spans(tracesOf("partial-svc")).get(0).item()).getName()).isEqualTo("good");
  }

  @Test
  void exporterSendsGzipAndConfiguredHeaders() {
    Await.until("some export calls", Duration.ofSeconds(15), () -> sink.calls() > 0 || trySendOne());
    assertThat(sink.encodings()).contains("gzip");
    assertThat(sink.headers()).allSatisfy(h -> assertThat(h).containsEntry("x-scope-orgid", "acme"));
  }

  private static boolean trySendOne() {
    try (OtlpGrpcSpanExporter exporter = OtlpGrpcSpanExporter.builder().setEndpoint(gw.grpcEndpoint()).build()) {
      exporter.export(SdkTelemetry.spans("headers", 1)).join(5, TimeUnit.SECONDS);
    }
    return false;
  }

  @Test
  void adminReportsReadinessAndMetrics() throws Exception {
    HttpResponse<String> ready = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + gw.adminPort + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(ready.statusCode()).isEqualTo(200);
    try (OtlpGrpcSpanExporter exporter = OtlpGrpcSpanExporter.builder().setEndpoint(gw.grpcEndpoint()).build()) {
      assertSuccess(exporter.export(SdkTelemetry.spans("metrics-check", 2)));
    }
    Await.until("exported spans counted", Duration.ofSeconds(15),
        () -> gw.counter("gateway.exporter.items.sent", "signal", "traces") > 0);
    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + gw.adminPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body())
        .contains("gateway_receiver_items_received_total{receiver=\"otlp\",signal=\"traces\",transport=\"grpc\"}")
        .contains("gateway_receiver_items_accepted_total")
        .contains("gateway_exporter_items_sent_total{exporter=\"jaeger\",signal=\"traces\"}")
        .contains("gateway_queue_items{exporter=\"jaeger\",signal=\"traces\"}")
        .contains("gateway_exporter_batch_items_bucket")
        .contains("gateway_pipeline_latency_seconds_bucket");
  }
}
