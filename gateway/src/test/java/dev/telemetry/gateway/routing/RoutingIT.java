package dev.telemetry.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Routing end to end: the gateway with a routing file, two OTLP backends ("primary" and "audit"), a redaction
 * profile and a sampling policy set; data sent over OTLP/HTTP, tables changed through the admin API and the file.
 */
class RoutingIT {
  static final String TOKEN = "it-admin-token-0123456789";
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "processors": {
          "pci": {"type": "redaction", "rules": [{"name": "emails", "detector": "email", "action": "mask"}]},
          "keep-all": {"type": "tail_sampling", "decision_wait": "200ms",
                       "policies": [{"name": "all", "type": "always_sample"}]}},
        "exporters": {
          "primary": {"type": "otlp", "endpoint": "{{A}}", "batch": {"timeout": "5ms"}},
          "audit": {"type": "otlp", "endpoint": "{{B}}", "batch": {"timeout": "5ms"}}},
        "pipelines": {
          "traces": {"receivers": ["otlp"], "exporters": ["primary", "audit"]},
          "logs": {"receivers": ["otlp"], "exporters": ["primary", "audit"]}},
        "routing": {"file": "{{ROUTES}}", "watch_interval": "100ms"},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}", "token": "%s"},
        "logging": {"level": "warn"}
      }""".formatted(TOKEN);

  static final String TABLE = """
      {"tenant": {"header": "X-Scope-OrgID"},
       "rules": [
        {"id": "health", "match": {"signal": "traces", "span_name": {"prefix": "GET /health"}}, "drop": true},
        {"id": "audit-copy", "match": {"signal": "logs", "resource": {"service.name": {"prefix": "audit-"}}},
         "exporters": ["audit"], "continue": true},
        {"id": "acme", "match": {"tenant": "acme"}, "exporters": ["primary"], "redaction": "pci"},
        {"id": "sampled", "match": {"signal": "traces", "resource": {"service.name": "batch"}},
         "exporters": ["audit"], "sampling": "keep-all"}
       ],
       "default": {"traces": {"exporters": ["primary"]}, "logs": {"exporters": ["primary"]}}}""";

  @TempDir
  Path dir;
  Vertx sinkVertx;
  OtlpSink a;
  OtlpSink b;
  GatewayHarness gw;
  Path routes;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    sinkVertx = Vertx.vertx();
    a = new OtlpSink(sinkVertx, Ports.free()).start();
    b = new OtlpSink(sinkVertx, Ports.free()).start();
    routes = dir.resolve("routes.json");
    Files.writeString(routes, TABLE);
    gw = GatewayHarness.start(CONFIG, Map.of("A", a.endpoint(), "B", b.endpoint(), "ROUTES", routes.toString()));
  }

  @AfterEach
  void stop() throws Exception {
    gw.close();
    a.close();
    b.close();
    sinkVertx.close().await();
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  static ResourceSpans spans(String service, String... names) {
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (String n : names) {
      byte[] trace = new byte[16];
      trace[0] = (byte) n.hashCode();
      trace[15] = 1;
      ss.addSpans(Span.newBuilder().setName(n).setTraceId(com.google.protobuf.ByteString.copyFrom(trace))
          .setSpanId(com.google.protobuf.ByteString.copyFrom(new byte[] {1, 2, 3, 4, 5, 6, 7, 8}))
          .setStartTimeUnixNano(1).setEndTimeUnixNano(2));
    }
    return ResourceSpans.newBuilder().setResource(Resource.newBuilder().addAttributes(kv("service.name", service)))
        .addScopeSpans(ss).build();
  }

  static ResourceLogs logs(String service, String... bodies) {
    ScopeLogs.Builder sl = ScopeLogs.newBuilder();
    for (String body : bodies) {
      sl.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(1).setBody(AnyValue.newBuilder().setStringValue(body)));
    }
    return ResourceLogs.newBuilder().setResource(Resource.newBuilder().addAttributes(kv("service.name", service)))
        .addScopeLogs(sl).build();
  }

  int post(String path, byte[] body, String... headers) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(gw.httpBase() + path))
        .header("Content-Type", "application/x-protobuf").POST(HttpRequest.BodyPublishers.ofByteArray(body));
    for (int i = 0; i < headers.length; i += 2) {
      r.header(headers[i], headers[i + 1]);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  HttpResponse<String> api(String method, String path, String body, String token) throws Exception {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.adminPort + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      r.header("Authorization", "Bearer " + token);
    }
    return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
  }


  @Test
  void itemsFollowTheirRules() throws Exception {
    assertThat(post("/v1/traces", ExportTraceServiceRequest.newBuilder()
        .addResourceSpans(spans("shop", "GET /health", "GET /cart"))
        .addResourceSpans(spans("batch", "nightly job")).build().toByteArray())).isEqualTo(200);
    assertThat(post("/v1/logs", ExportLogsServiceRequest.newBuilder()
        .addResourceLogs(logs("audit-login", "login ok for bob"))
        .addResourceLogs(logs("shop", "cart viewed")).build().toByteArray())).isEqualTo(200);
    assertThat(post("/v1/logs", ExportLogsServiceRequest.newBuilder()
        .addResourceLogs(logs("shop", "receipt sent to jane@example.com")).build().toByteArray(),
        "X-Scope-OrgID", "acme")).isEqualTo(200);

    Await.until("spans at both backends", Duration.ofSeconds(10),
        () -> a.spans().size() == 1 && b.spans().size() == 1);
    assertThat(a.spans()).extracting(Span::getName).containsExactly("GET /cart");
    assertThat(b.spans()).extracting(Span::getName).containsExactly("nightly job"); // through the sampler
    Await.until("logs at both backends", Duration.ofSeconds(10), () -> a.logBodies().size() == 3 && b.logBodies().size() == 1);
    assertThat(a.logBodies()).containsExactlyInAnyOrder("login ok for bob", "cart viewed", "receipt sent to ****");
    assertThat(b.logBodies()).containsExactly("login ok for bob");
    assertThat(gw.counter("gateway.routing.dropped.items", "rule", "health")).isEqualTo(1);
    assertThat(gw.counter("gateway.routing.items", "signal", "logs", "rule", "acme")).isEqualTo(1);
    assertThat(gw.counter("gateway.processor.tail_sampling.traces", "processor", "keep-all")).isEqualTo(1);
  }

  @Test
  void adminApiNeedsTheTokenRejectsBadTablesAndRollsBack() throws Exception {
    assertThat(api("GET", "/api/v1/routes", null, null).statusCode()).isEqualTo(401);
    assertThat(api("GET", "/api/v1/routes", null, "wrong-token-wrong-token").statusCode()).isEqualTo(401);
    HttpResponse<String> current = api("GET", "/api/v1/routes", null, TOKEN);
    assertThat(current.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(current.body()).getInteger("version")).isEqualTo(1);

    HttpResponse<String> bad = api("PUT", "/api/v1/routes", """
        {"rules": [{"id": "x", "match": {"signal": "logs"}, "exporters": ["nowhere"]}]}""", TOKEN);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(bad.body()).getJsonArray("problems").getString(0))
        .startsWith("rules[0].exporters[0]: exporter \"nowhere\" is not in the logs pipeline");
    assertThat(new JsonObject(api("GET", "/api/v1/routes", null, TOKEN).body()).getInteger("version")).isEqualTo(1);

    HttpResponse<String> dry = api("PUT", "/api/v1/routes?dry_run=true", "{\"rules\": []}", TOKEN);
    assertThat(new JsonObject(dry.body()).getBoolean("valid")).isTrue();
    assertThat(new JsonObject(api("GET", "/api/v1/routes", null, TOKEN).body()).getInteger("version")).isEqualTo(1);

    String everythingToAudit = """
        {"rules": [{"id": "all-audit", "match": {}, "exporters": ["audit"]}]}""";
    HttpResponse<String> put = api("PUT", "/api/v1/routes", everythingToAudit, TOKEN);
    assertThat(put.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(put.body()).getInteger("version")).isEqualTo(2);
    assertThat(new JsonObject(put.body()).getBoolean("persisted")).isTrue();
    assertThat(new JsonObject(Files.readString(routes))).isEqualTo(new JsonObject(everythingToAudit));
    assertThat(new JsonObject(put.body()).getString("summary"))
        .isEqualTo("added [all-audit]; removed [health, audit-copy, acme, sampled]; default route changed; "
            + "tenant source changed (1 rules)");
    assertThat(post("/v1/logs", ExportLogsServiceRequest.newBuilder().addResourceLogs(logs("shop", "v2"))
        .build().toByteArray())).isEqualTo(200);
    Await.until("v2 log at audit", Duration.ofSeconds(10), () -> b.logBodies().contains("v2"));

    HttpResponse<String> rollback = api("POST", "/api/v1/routes/rollback", null, TOKEN);
    assertThat(rollback.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(rollback.body()).getInteger("version")).isEqualTo(3);
    assertThat(new JsonObject(rollback.body()).getString("source")).contains("rollback to version 1");
    assertThat(new JsonObject(Files.readString(routes))).isEqualTo(new JsonObject(TABLE));
    assertThat(post("/v1/logs", ExportLogsServiceRequest.newBuilder().addResourceLogs(logs("shop", "v3"))
        .build().toByteArray())).isEqualTo(200);
    Await.until("v3 log at primary", Duration.ofSeconds(10), () -> a.logBodies().contains("v3"));
    assertThat(b.logBodies()).doesNotContain("v3");

    JsonObject history = new JsonObject(api("GET", "/api/v1/routes/history", null, TOKEN).body());
    assertThat(history.getInteger("current")).isEqualTo(3);
    assertThat(history.getJsonArray("versions")).hasSize(3);
    assertThat(api("POST", "/api/v1/routes/rollback", "{\"version\": 99}", TOKEN).statusCode()).isEqualTo(409);
    JsonObject v2 = new JsonObject(api("GET", "/api/v1/routes?version=2", null, TOKEN).body());
    assertThat(v2.getJsonObject("table")).isEqualTo(new JsonObject(everythingToAudit));
    assertThat(gw.counter("gateway.routing.table.changes", "result", "rejected")).isEqualTo(1);
  }

  @Test
  void explainSaysWhereEachItemGoesAndWhatRedactionChanges() throws Exception {
    String payload = """
        {"resourceLogs": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "audit-x"}}]},
          "scopeLogs": [{"logRecords": [
            {"body": {"stringValue": "hello"}},
            {"body": {"stringValue": "mail jane@example.com"},
             "attributes": [{"key": "user.email", "value": {"stringValue": "jane@example.com"}}]}]}]}]}""";
    HttpResponse<String> r = api("POST", "/api/v1/routes/explain",
        new JsonObject().put("payload", new JsonObject(payload)).put("tenant", "acme").encode(), TOKEN);
    assertThat(r.statusCode()).isEqualTo(200);
    JsonObject out = new JsonObject(r.body());
    assertThat(out.getString("signal")).isEqualTo("logs");
    JsonArray items = out.getJsonArray("items");
    assertThat(items).hasSize(2);
    JsonObject second = items.getJsonObject(1);
    assertThat(second.getString("item")).isEqualTo("resourceLogs[0].scopeLogs[0].logRecords[1]");
    assertThat(second.getJsonArray("matched").getList()).containsExactly("audit-copy", "acme");
    JsonObject acme = second.getJsonArray("routes").getJsonObject(1);
    assertThat(acme.getJsonArray("exporters").getList()).containsExactly("primary");
    assertThat(acme.getJsonObject("redaction").getJsonArray("changes").getList()).containsExactlyInAnyOrder(
        Map.of("field", "body", "now", "mail ****"),
        Map.of("field", "attributes[\"user.email\"]", "now", "****"));
    assertThat(out.getJsonObject("summary").getJsonObject("by_rule").getMap())
        .containsEntry("audit-copy", 2).containsEntry("acme", 2);
    // nothing was sent
    Thread.sleep(200);
    assertThat(a.logBodies()).isEmpty();
    assertThat(b.logBodies()).isEmpty();

    HttpResponse<String> candidate = api("POST", "/api/v1/routes/explain", new JsonObject()
        .put("payload", new JsonObject(payload)).put("routes", new JsonObject("""
            {"rules": [{"id": "drop-all", "match": {}, "drop": true}]}""")).encode(), TOKEN);
    assertThat(new JsonObject(candidate.body()).getString("table_version")).isEqualTo("candidate");
    assertThat(new JsonObject(candidate.body()).getJsonObject("summary").getInteger("dropped")).isEqualTo(2);
    HttpResponse<String> malformed = api("POST", "/api/v1/routes/explain",
        "{\"resourceLogs\": [{\"scopeLogs\": \"nope\"}]}", TOKEN);
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(malformed.body()).getString("error")).startsWith("payload is not valid OTLP/JSON");
    assertThat(api("POST", "/api/v1/routes/explain", "{\"spans\": []}", TOKEN).statusCode()).isEqualTo(400);
  }

  @Test
  void fileChangesReloadAndABadFileKeepsTheCurrentTable() throws Exception {
    Files.writeString(routes, "{\"rules\": [ oops");
    Thread.sleep(400); // several poll intervals
    assertThat(gw.gateway.routeTables().orElseThrow().currentVersion().number()).isEqualTo(1);
    Files.writeString(routes, """
        {"rules": [{"id": "all-audit", "match": {}, "exporters": ["audit"]}]}""");
    Await.until("version 2 from the file", Duration.ofSeconds(5),
        () -> gw.gateway.routeTables().orElseThrow().currentVersion().number() == 2);
    assertThat(gw.gateway.routeTables().orElseThrow().currentVersion().source()).startsWith("file ");
  }

  /**
   * Tables swap every few milliseconds (through the API and the file) while two clients send logs: every record
   * the gateway acknowledged arrives exactly once, at the backend of whichever table routed it.
   */
  @Test
  void reloadsUnderLoadLoseAndDuplicateNothing() throws Exception {
    String toA = "{\"rules\": [{\"id\": \"to-a\", \"match\": {}, \"exporters\": [\"primary\"]}]}";
    String toB = "{\"rules\": [{\"id\": \"to-b\", \"match\": {}, \"exporters\": [\"audit\"]}]}";
    AtomicBoolean sending = new AtomicBoolean(true);
    Set<String> acked = ConcurrentHashMap.newKeySet();
    AtomicInteger seq = new AtomicInteger();
    List<Thread> senders = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      Thread th = new Thread(() -> {
        try {
          for (int i = 0; i < 300 && sending.get(); i++) {
            String[] ids = new String[20];
            for (int k = 0; k < ids.length; k++) {
              ids[k] = "rec-" + seq.incrementAndGet();
            }
            int status = post("/v1/logs", ExportLogsServiceRequest.newBuilder()
                .addResourceLogs(logs("svc-" + (i % 3), ids)).build().toByteArray());
            if (status == 200) {
              acked.addAll(List.of(ids));
            }
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      th.start();
      senders.add(th);
    }
    int swaps = 0;
    long deadline = System.nanoTime() + Duration.ofSeconds(4).toNanos();
    while (senders.stream().anyMatch(Thread::isAlive) && System.nanoTime() < deadline) {
      String next = swaps % 2 == 0 ? toB : toA;
      if (swaps % 4 == 3) {
        Files.writeString(routes, next);
        Thread.sleep(150);
      } else {
        assertThat(api("PUT", "/api/v1/routes", next, TOKEN).statusCode()).isEqualTo(200);
        Thread.sleep(20);
      }
      swaps++;
    }
    sending.set(false);
    for (Thread th : senders) {
      th.join();
    }
    assertThat(swaps).isGreaterThan(10);
    assertThat(acked).hasSizeGreaterThan(1000);
    Await.until(() -> "all acknowledged records delivered (" + (a.logBodies().size() + b.logBodies().size()) + " of "
        + acked.size() + ")", Duration.ofSeconds(20), () -> a.logBodies().size() + b.logBodies().size() >= acked.size());
    List<String> delivered = new ArrayList<>(a.logBodies());
    delivered.addAll(b.logBodies());
    assertThat(new HashSet<>(delivered)).hasSize(delivered.size()); // no duplicates
    assertThat(new HashSet<>(delivered)).isEqualTo(acked);
    assertThat(a.logBodies()).isNotEmpty();
    assertThat(b.logBodies()).isNotEmpty();
  }
}
