package dev.telemetry.gateway.analytics.anomaly;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.AlertmanagerServer;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.RecordingServer;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Anomaly → alert → automated runbook → routed traffic changes → recovery → revert, end to end. The gateway's
 * anomaly state file is seeded with two weeks of the checkout service's normal history (at a 10 s step: about 100
 * calls and 2 % errors a step), then the OpenTelemetry Java SDK sends that traffic for real. An outage (half the
 * calls fail) opens a critical error-ratio anomaly; the alert reaches a real Alertmanager, and the remediation
 * switches to the pre-approved routing table that sheds debug logs — debug records stop reaching the logs backend
 * while info records flow. The service recovers, the anomaly closes, the table is rolled back and debug logs flow
 * again. Then an alert posted to Alertmanager reaches the gateway through Alertmanager's webhook and tightens the
 * traces' sampling to errors only, until it resolves.
 */
class AnomalyRemediationIT {
  static final String TOKEN = "anomaly-it-token-0123456789abcdef";
  static final long STEP_MS = 10_000;
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "connectors": {"red": {"type": "span_metrics", "flush_interval": "1s"}},
        "processors": {
          "keep-all": {"type": "tail_sampling", "decision_wait": "500ms",
                       "policies": [{"name": "all", "type": "always_sample"}]},
          "errors-only": {"type": "tail_sampling", "decision_wait": "500ms",
                          "policies": [{"name": "errors", "type": "status_code", "status_codes": ["ERROR"]}]}},
        "exporters": {
          "jaeger": {"type": "otlp", "endpoint": "{{JAEGER}}", "batch": {"timeout": "5ms"}},
          "es": {"type": "otlp", "endpoint": "{{ES}}", "batch": {"timeout": "5ms"}},
          "metrics": {"type": "file", "directory": "{{DIR}}/metrics"}},
        "pipelines": {
          "traces": {"receivers": ["otlp"], "processors": ["keep-all"], "exporters": ["jaeger", "red"]},
          "metrics": {"receivers": ["red"], "exporters": ["metrics"]},
          "logs": {"receivers": ["otlp"], "exporters": ["es"]}},
        "routing": {"file": "{{ROUTES}}", "watch_interval": "0s"},
        "anomalies": {"step": "10s", "evaluation_interval": "1s", "state_file": "{{DIR}}/anomalies.json",
                      "red": {"min_requests": 20}},
        "alerting": {"alertmanagers": ["{{AM}}"], "resend_interval": "2s"},
        "remediations": {"max_per_hour": 4, "actions": [
          {"name": "shed-debug-logs", "when": {"alertname": "GatewayAnomaly", "signal": "error_ratio"},
           "routing_table": "{{SHED}}"},
          {"name": "errors-only-sampling", "when": {"alertname": "BackendDown"},
           "sampling": {"policy_set": "errors-only"}}]},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}", "token": "%s"},
        "logging": {"level": "warn"}
      }""".formatted(TOKEN);
  static final String ROUTES = """
      {"rules": [{"id": "checkout-traces", "match": {"signal": "traces"}, "exporters": ["jaeger"]}],
       "default": {"logs": {"exporters": ["es"]}}}""";
  static final String SHED = """
      {"rules": [{"id": "checkout-traces", "match": {"signal": "traces"}, "exporters": ["jaeger"]},
                 {"id": "shed-debug", "match": {"signal": "logs", "not": {"severity": {"at_least": "INFO"}}},
                  "drop": true}],
       "default": {"logs": {"exporters": ["es"]}}}""";

  @TempDir
  Path tmp;
  volatile double errorRatio = 0.02;
  final AtomicInteger logSeq = new AtomicInteger();
  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void anOutageShedsDebugLogsUntilItIsOverAndAnAlertmanagerWebhookTightensSampling() throws Exception {
    Vertx vertx = Vertx.vertx();
    OtlpSink jaeger = new OtlpSink(vertx, Ports.free()).start();
    OtlpSink es = new OtlpSink(vertx, Ports.free()).start();
    RecordingServer recorder = new RecordingServer(vertx);
    int amPort = Ports.free();
    Path routes = tmp.resolve("routes.json");
    Files.writeString(routes, ROUTES);
    Path shed = tmp.resolve("shed-debug-logs.json");
    Files.writeString(shed, SHED);
    // Two weeks of normal history, ending a few steps ahead (the traffic below is steady by then).
    long lastSeeded = System.currentTimeMillis() / STEP_MS + 3;
    Files.writeString(tmp.resolve("anomalies.json"), seededState(lastSeeded).encode());
    AtomicBoolean sending = new AtomicBoolean(true);
    // The gateway first (Alertmanager's webhook needs its admin port; its outbox waits for Alertmanager).
    try (GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("DIR", tmp.toString(), "ROUTES", routes.toString(),
             "SHED", shed.toString(), "AM", "http://127.0.0.1:" + amPort, "JAEGER", jaeger.endpoint(),
             "ES", es.endpoint()));
         AlertmanagerServer am = new AlertmanagerServer(amPort, tmp.resolve("am"),
             alertmanagerConfig(gw.adminPort, recorder)).start();
         SdkTracerProvider tp = SdkTracerProvider.builder()
             .setResource(Resource.create(Attributes.builder().put("service.name", "checkout").build()))
             .addSpanProcessor(BatchSpanProcessor.builder(OtlpGrpcSpanExporter.builder()
                 .setEndpoint(gw.grpcEndpoint()).build()).setScheduleDelay(Duration.ofMillis(100)).build())
             .build()) {
      Thread traffic = new Thread(() -> sendCalls(tp.get("it"), sending), "checkout-traffic");
      Thread logs = new Thread(() -> sendLogs(gw, sending), "checkout-logs");
      traffic.start();
      logs.start();
      try {
        // Normal traffic against its history: judged, not anomalous.
        Await.until("normal steps judged against the seeded history", Duration.ofSeconds(90), () -> {
          JsonObject a = api(gw, "/api/v1/anomalies");
          return a.getJsonArray("top").stream().map(JsonObject.class::cast).anyMatch(s ->
              "error_ratio".equals(s.getString("signal")) && s.getString("step") != null
                  && Instant.parse(s.getString("step")).toEpochMilli() / STEP_MS >= lastSeeded + 3);
        });
        JsonObject before = api(gw, "/api/v1/anomalies");
        assertThat(before.getJsonArray("open")).as("no anomaly on normal traffic: %s", before).isEmpty();
        assertThat(before.getInteger("series")).isGreaterThanOrEqualTo(2);
        int baseVersion = routesVersion(gw);
        Await.until("debug logs reach the backend", Duration.ofSeconds(10), () -> debugLogs(es) > 0);

        // The outage: half the calls fail.
        errorRatio = 0.5;
        Await.until("the shed-debug-logs remediation applied", Duration.ofSeconds(60),
            () -> action(gw, "shed-debug-logs").getBoolean("active"));
        JsonObject anomaly = api(gw, "/api/v1/anomalies").getJsonArray("open").getJsonObject(0);
        assertThat(anomaly.getString("signal")).isEqualTo("error_ratio");
        assertThat(anomaly.getJsonObject("labels").getString("service_name")).isEqualTo("checkout");
        assertThat(anomaly.getBoolean("critical")).isTrue();
        assertThat(routesVersion(gw)).isEqualTo(baseVersion + 1);
        Await.until("the anomaly alert in Alertmanager", Duration.ofSeconds(30), () -> amAlerts(am).stream()
            .anyMatch(a -> "GatewayAnomaly".equals(a.getJsonObject("labels").getString("alertname"))));
        JsonObject inAm = amAlerts(am).stream().filter(a -> "GatewayAnomaly".equals(
            a.getJsonObject("labels").getString("alertname"))).findFirst().orElseThrow();
        assertThat(inAm.getJsonObject("labels").getString("severity")).isEqualTo("critical");
        assertThat(inAm.getJsonObject("annotations").getString("summary"))
            .startsWith("service_name=checkout,span_name=POST /checkout error ratio is ");
        // Debug records sent from now on are shed; info records still flow.
        int shedFrom = logSeq.get();
        Thread.sleep(3_000);
        assertThat(debugSeqs(es)).as("no debug record sent after the remediation applied")
            .noneMatch(s -> s > shedFrom);
        assertThat(infoSeqs(es)).anyMatch(s -> s > shedFrom);

        // Recovery: the anomaly closes, the alert resolves, the table is rolled back.
        errorRatio = 0.02;
        Await.until("the remediation reverted", Duration.ofSeconds(120),
            () -> !action(gw, "shed-debug-logs").getBoolean("active"));
        assertThat(api(gw, "/api/v1/anomalies").getJsonArray("open")).isEmpty();
        assertThat(routesVersion(gw)).isEqualTo(baseVersion + 2);
        assertThat(currentRules(gw)).isEqualTo(new JsonObject(ROUTES).getJsonArray("rules"));
        int revertedAt = logSeq.get();
        Await.until("debug logs flow again", Duration.ofSeconds(10),
            () -> debugSeqs(es).stream().anyMatch(s -> s > revertedAt));
        JsonArray history = api(gw, "/api/v1/remediations").getJsonArray("history");
        assertThat(history.stream().map(o -> ((JsonObject) o).getString("result")).toList())
            .containsExactly("applied", "reverted");

        // Another path in: an alert from elsewhere reaches the gateway through Alertmanager's webhook.
        postToAlertmanager(am, "BackendDown", Instant.now().plusSeconds(300));
        Await.until("errors-only sampling applied through the webhook", Duration.ofSeconds(30),
            () -> action(gw, "errors-only-sampling").getBoolean("active"));
        assertThat(currentRules(gw).getJsonObject(0).getString("sampling")).isEqualTo("errors-only");
        Thread.sleep(1_500); // what was held by the keep-all sampler before the switch is out by now
        int okBefore = okSpans(jaeger);
        Thread.sleep(3_000);
        assertThat(okSpans(jaeger)).as("no successful call's trace kept while sampling is errors-only")
            .isEqualTo(okBefore);
        postToAlertmanager(am, "BackendDown", Instant.now());
        Await.until("errors-only sampling reverted when Alertmanager said resolved", Duration.ofSeconds(30),
            () -> !action(gw, "errors-only-sampling").getBoolean("active"));
        assertThat(currentRules(gw)).isEqualTo(new JsonObject(ROUTES).getJsonArray("rules"));
        Await.until("successful calls' traces kept again", Duration.ofSeconds(10),
            () -> okSpans(jaeger) > okBefore);
        assertThat(recorder.received("/others")).as("the anomaly alert went on to its receiver").isNotEmpty();
        assertThat(gw.counter("gateway.remediation.runs", "action", "shed-debug-logs", "result", "applied"))
            .isEqualTo(1);
      } finally {
        sending.set(false);
        traffic.join(10_000);
        logs.join(10_000);
      }
    } finally {
      jaeger.close();
      es.close();
      recorder.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** The anomaly state file: checkout's rate and error ratio with two weeks of normal steps up to {@code last}. */
  static JsonObject seededState(long last) {
    SplittableRandom r = new SplittableRandom(42);
    Map<String, String> labels = Map.of("service_name", "checkout", "span_name", "POST /checkout");
    JsonArray series = new JsonArray();
    Detection rules = new Detection(5.5, 2.5, 3, 4, 12, 2.5, 3, 6, 20, 0.5, 12, Detection.Direction.BOTH);
    SeriesDetector rate = new SeriesDetector(Baseline.create(SeasonalMedianBaseline.METHOD, STEP_MS,
        Transform.COUNT), Transform.COUNT, rules);
    SeriesDetector errors = new SeriesDetector(Baseline.create(SeasonalMedianBaseline.METHOD, STEP_MS,
        Transform.LINEAR), Transform.LINEAR, rules.withDirection(Detection.Direction.UP));
    long first = last - 14 * 86_400_000L / STEP_MS;
    for (long s = first; s <= last; s++) {
      double calls = SyntheticSeries.poisson(r, 100);
      double bad = SyntheticSeries.binomial(r, calls, 0.02);
      rate.step(s, calls, Double.NaN, false);
      errors.step(s, bad / calls, calls, false);
    }
    // Seed history closes whatever it opened (a false alarm in two weeks is within the documented rate).
    for (SeriesDetector d : List.of(rate, errors)) {
      if (d.open()) {
        d.restoreState(d.toJson().put("open", false));
      }
    }
    JsonObject l = new JsonObject();
    labels.forEach(l::put);
    series.add(entry(l, "rate", Transform.COUNT, Detection.Direction.BOTH, last, rate));
    series.add(entry(l, "error_ratio", Transform.LINEAR, Detection.Direction.UP, last, errors));
    return new JsonObject().put("version", 1).put("method", SeasonalMedianBaseline.METHOD).put("step_ms", STEP_MS)
        .put("series", series);
  }

  static JsonObject entry(JsonObject labels, String signal, Transform t, Detection.Direction d, long judged,
                          SeriesDetector detector) {
    return new JsonObject().put("stream", "red").put("what", "calls").put("labels", labels).put("merge", "SUM")
        .put("signal", signal).put("judged", judged).put("transform", t.name()).put("direction", d.name())
        .put("min_volume", 20.0).put("detector", detector.toJson());
  }

  /** Alertmanager: BackendDown goes to the gateway's remediation webhook; everything else to a recorder. */
  Path alertmanagerConfig(int adminPort, RecordingServer recorder) throws Exception {
    Path file = tmp.resolve("alertmanager.yml");
    Files.writeString(file, """
        route:
          receiver: others
          group_by: [alertname]
          group_wait: 1s
          group_interval: 1s
          repeat_interval: 1h
          routes:
            - matchers: ['alertname="BackendDown"']
              receiver: gateway-remediations
        receivers:
          - name: others
            webhook_configs:
              - url: %s
          - name: gateway-remediations
            webhook_configs:
              - url: http://127.0.0.1:%d/api/v1/remediations/alertmanager
                send_resolved: true
                http_config:
                  authorization:
                    credentials: %s
        """.formatted(recorder.url("/others"), adminPort, TOKEN));
    return file;
  }

  void postToAlertmanager(AlertmanagerServer am, String name, Instant endsAt) throws Exception {
    JsonArray body = new JsonArray().add(new JsonObject()
        .put("labels", new JsonObject().put("alertname", name).put("severity", "critical"))
        .put("annotations", new JsonObject().put("summary", "the trace backend is down"))
        .put("startsAt", Instant.now().minusSeconds(60).toString()).put("endsAt", endsAt.toString()));
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(am.base() + "/api/v2/alerts"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode()))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  List<JsonObject> amAlerts(AlertmanagerServer am) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(am.base() + "/api/v2/alerts")).build(),
          HttpResponse.BodyHandlers.ofString());
      return new JsonArray(r.body()).stream().map(JsonObject.class::cast).toList();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** About 100 checkout calls per 10 s step, failing at the current ratio. */
  void sendCalls(Tracer tracer, AtomicBoolean sending) {
    SplittableRandom random = new SplittableRandom(3);
    long next = System.nanoTime();
    while (sending.get()) {
      Instant start = Instant.now();
      Span s = tracer.spanBuilder("POST /checkout").setSpanKind(SpanKind.SERVER).setStartTimestamp(start)
          .startSpan();
      if (random.nextDouble() < errorRatio) {
        s.setStatus(StatusCode.ERROR);
      }
      s.end(start.plusMillis(20));
      next += 100_000_000L;
      long wait = next - System.nanoTime();
      if (wait > 0) {
        try {
          Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  /** A debug and an info record every 200 ms, numbered. */
  void sendLogs(GatewayHarness gw, AtomicBoolean sending) {
    while (sending.get()) {
      int seq = logSeq.incrementAndGet();
      ExportLogsServiceRequest req = ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
          .setResource(io.opentelemetry.proto.resource.v1.Resource.newBuilder().addAttributes(
              io.opentelemetry.proto.common.v1.KeyValue.newBuilder().setKey("service.name")
                  .setValue(AnyValue.newBuilder().setStringValue("checkout"))))
          .addScopeLogs(ScopeLogs.newBuilder()
              .addLogRecords(record(SeverityNumber.SEVERITY_NUMBER_DEBUG, "debug " + seq))
              .addLogRecords(record(SeverityNumber.SEVERITY_NUMBER_INFO, "info " + seq)))).build();
      try {
        http.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/logs"))
            .header("Content-Type", "application/x-protobuf")
            .POST(HttpRequest.BodyPublishers.ofByteArray(req.toByteArray())).build(),
            HttpResponse.BodyHandlers.discarding());
        Thread.sleep(200);
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        // the gateway is stopping
      }
    }
  }

  static LogRecord record(SeverityNumber severity, String body) {
    return LogRecord.newBuilder().setSeverityNumber(severity).setTimeUnixNano(System.currentTimeMillis() * 1_000_000L)
        .setBody(AnyValue.newBuilder().setStringValue(body)).build();
  }

  static List<Integer> debugSeqs(OtlpSink es) {
    return seqs(es, "debug ");
  }

  static List<Integer> infoSeqs(OtlpSink es) {
    return seqs(es, "info ");
  }

  static long debugLogs(OtlpSink es) {
    return debugSeqs(es).size();
  }

  static List<Integer> seqs(OtlpSink es, String prefix) {
    return es.logBodies().stream().filter(b -> b.startsWith(prefix))
        .map(b -> Integer.parseInt(b.substring(prefix.length()))).toList();
  }

  static int okSpans(OtlpSink jaeger) {
    return (int) jaeger.spans().stream().filter(s -> s.getStatus().getCode()
        != io.opentelemetry.proto.trace.v1.Status.StatusCode.STATUS_CODE_ERROR).count();
  }

  JsonObject action(GatewayHarness gw, String name) {
    return api(gw, "/api/v1/remediations").getJsonArray("actions").stream().map(JsonObject.class::cast)
        .filter(a -> name.equals(a.getString("name"))).findFirst().orElseThrow();
  }

  int routesVersion(GatewayHarness gw) {
    return api(gw, "/api/v1/routes").getInteger("version");
  }

  JsonArray currentRules(GatewayHarness gw) {
    return api(gw, "/api/v1/routes").getJsonObject("table").getJsonArray("rules");
  }

  JsonObject api(GatewayHarness gw, String path) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.adminPort
          + path)).header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
      return new JsonObject(r.body());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
