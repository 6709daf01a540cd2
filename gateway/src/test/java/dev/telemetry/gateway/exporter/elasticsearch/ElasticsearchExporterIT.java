package dev.telemetry.gateway.exporter.elasticsearch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.ElasticsearchServer;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.SdkTelemetry;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.sdk.logs.data.LogRecordData;
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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OTLP logs from the OpenTelemetry Java SDK (and raw OTLP/JSON) through the gateway into a real Elasticsearch 8.19,
 * read back with _search: every record with the right fields in both mappings, trace correlation included; data
 * stream routing; a mapping conflict goes to the dead-letter file and nothing else is lost.
 */
class ElasticsearchExporterIT {
  static ElasticsearchServer es;

  @TempDir
  Path tmp;

  @BeforeAll
  static void startElasticsearch() throws Exception {
    es = new ElasticsearchServer().start();
  }

  @AfterAll
  static void stopElasticsearch() throws Exception {
    if (es != null) {
      es.close();
    }
  }

  static String config(String name, String exporterJson) {
    return """
        {
          "receivers": {"otlp": {"type": "otlp",
            "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
          "exporters": {"%s": %s},
          "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["%s"]}},
          "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
          "logging": {"level": "warn"}
        }""".formatted(name, exporterJson, name);
  }

  static JsonObject bySeq(List<JsonObject> docs, String field, Object value) {
    return docs.stream().filter(d -> value.equals(d.getValue(field))).findFirst().orElseThrow(
        () -> new AssertionError("no document with " + field + "=" + value + " in " + docs));
  }

  @Test
  void otelMappingKeepsEveryFieldAndTraceCorrelation() throws Exception {
    String exporter = """
        {"type": "elasticsearch", "endpoints": ["%s"], "mapping": "otel", "dead_letter_file": "%s",
         "batch": {"timeout": "10ms"}}""".formatted(es.url(), tmp.resolve("dlq.jsonl"));
    try (GatewayHarness gw = GatewayHarness.start(config("es_otel", exporter), Map.of())) {
      List<LogRecordData> logs = SdkTelemetry.logs("checkout-otel", 15);
      try (OtlpHttpLogRecordExporter sdk = OtlpHttpLogRecordExporter.builder()
          .setEndpoint(gw.httpBase() + "/v1/logs").build()) {
        assertThat(sdk.export(logs).join(15, TimeUnit.SECONDS).isSuccess()).isTrue();
      }
      Await.until("15 documents in logs-generic-default", Duration.ofSeconds(60),
          () -> search("logs-generic-default", "checkout-otel").size() == 15);
      List<JsonObject> docs = search("logs-generic-default", "checkout-otel");
      for (LogRecordData r : logs) {
        long id = r.getAttributes().get(io.opentelemetry.api.common.AttributeKey.longKey("order.id"));
        JsonObject d = docs.stream().filter(x -> x.getJsonObject("attributes").getLong("order.id") == id).findFirst()
            .orElseThrow();
        assertThat(d.getString("@timestamp")).isEqualTo(timestamp(r));
        assertThat(d.getString("observed_timestamp"))
            .isEqualTo(Instant.ofEpochSecond(0, r.getObservedTimestampEpochNanos()).toString());
        assertThat(d.getString("severity_text")).isEqualTo(r.getSeverityText());
        assertThat(d.getInteger("severity_number")).isEqualTo(r.getSeverity().getSeverityNumber());
        assertThat(d.getJsonObject("body").getString("text")).isEqualTo("order " + id + " placed");
        assertThat(d.getString("trace_id")).isEqualTo(r.getSpanContext().getTraceId());
        assertThat(d.getString("span_id")).isEqualTo(r.getSpanContext().getSpanId());
        assertThat(d.getJsonObject("resource").getJsonObject("attributes").getString("service.name"))
            .isEqualTo("checkout-otel");
        assertThat(d.getJsonObject("resource").getJsonObject("attributes").getString("deployment.environment.name"))
            .isEqualTo("test");
        assertThat(d.getJsonObject("scope").getString("name")).isEqualTo("shop.logs");
        assertThat(d.getJsonObject("scope").getString("version")).isEqualTo("3.1");
        assertThat(d.getJsonObject("data_stream")).isEqualTo(new JsonObject().put("type", "logs")
            .put("dataset", "generic").put("namespace", "default"));
      }
      // The mapping the gateway installed is in force: trace_id is a keyword, @timestamp keeps nanoseconds.
      JsonObject mapping = es.get("/logs-generic-default/_mapping");
      String backing = mapping.fieldNames().iterator().next();
      JsonObject props = mapping.getJsonObject(backing).getJsonObject("mappings").getJsonObject("properties");
      assertThat(props.getJsonObject("trace_id").getString("type")).isEqualTo("keyword");
      assertThat(props.getJsonObject("@timestamp").getString("type")).isEqualTo("date_nanos");
      assertThat(props.getJsonObject("attributes").getBoolean("subobjects")).isFalse();

      // Routing by data_stream.* attributes, structured bodies, and a mapping conflict that must be dead-lettered.
      String json = """
          {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"payments"}},
            {"key":"data_stream.namespace","value":{"stringValue":"Prod"}}]},
            "scopeLogs":[{"logRecords":[
              {"timeUnixNano":"1700000000000000001","body":{"kvlistValue":{"values":[
                 {"key":"amount","value":{"doubleValue":12.5}},{"key":"currency","value":{"stringValue":"EUR"}}]}},
               "attributes":[{"key":"data_stream.dataset","value":{"stringValue":"payments-api"}},
                             {"key":"seq","value":{"intValue":"1"}},{"key":"retries","value":{"intValue":"3"}}]},
              {"timeUnixNano":"1700000000000000002","body":{"stringValue":"second"},
               "attributes":[{"key":"data_stream.dataset","value":{"stringValue":"payments-api"}},
                             {"key":"seq","value":{"intValue":"2"}},{"key":"retries","value":{"stringValue":"many"}}]},
              {"timeUnixNano":"1700000000000000003","body":{"stringValue":"third"},
               "attributes":[{"key":"data_stream.dataset","value":{"stringValue":"payments-api"}},
                             {"key":"seq","value":{"intValue":"3"}},{"key":"retries","value":{"intValue":"5"}}]}
            ]}]}]}""";
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create(gw.httpBase() + "/v1/logs")).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      Await.until("the conflicting document dead-lettered", Duration.ofSeconds(60),
          () -> gw.counter("gateway.exporter.items.failed", "reason", "rejected_by_backend") == 1);
      Await.until(() -> "2 routed documents; indices: " + es.raw("/_cat/indices?v"), Duration.ofSeconds(30),
          () -> ecs("logs-payments_api-prod").size() == 2);
      List<JsonObject> payments = es.search("logs-payments_api-prod", "{\"sort\":[{\"attributes.seq\":\"asc\"}]}");
      assertThat(payments).hasSize(2);
      assertThat(payments.get(0).getJsonObject("body").getJsonObject("structured"))
          .isEqualTo(new JsonObject().put("amount", 12.5).put("currency", "EUR"));
      assertThat(payments.get(0).getString("@timestamp")).isEqualTo("2023-11-14T22:13:20.000000001Z");
      assertThat(payments.get(1).getJsonObject("body").getString("text")).isEqualTo("third");
      List<String> dead = Files.readAllLines(tmp.resolve("dlq.jsonl"));
      assertThat(dead).hasSize(1);
      JsonObject line = new JsonObject(dead.get(0));
      assertThat(line.getString("index")).isEqualTo("logs-payments_api-prod");
      // The same line shape as an exporter queue's dead letters: exporter, signal, reason, error, items.
      assertThat(line.getString("exporter")).isEqualTo("es_otel");
      assertThat(line.getString("signal")).isEqualTo("logs");
      assertThat(line.getString("reason")).isEqualTo("rejected_by_backend");
      assertThat(line.getInteger("items")).isEqualTo(1);
      assertThat(line.getJsonObject("error").getInteger("status")).isEqualTo(400);
      assertThat(line.getJsonObject("error").getString("type")).isEqualTo("document_parsing_exception");
      assertThat(line.getJsonObject("error").getString("message")).contains("attributes.retries");
      assertThat(line.getJsonObject("document").getJsonObject("attributes").getString("retries")).isEqualTo("many");
      assertThat(line.getJsonObject("document").getJsonObject("body").getString("text")).isEqualTo("second");
    }
  }

  @Test
  void ecsMappingWithTheRestClientTransport() throws Exception {
    String exporter = """
        {"type": "elasticsearch", "endpoints": ["%s"], "mapping": "ecs", "namespace": "ecs",
         "transport": "rest_client", "index_template": {"pattern": "logs-*-ecs", "priority": 210},
         "dead_letter_file": "%s", "batch": {"timeout": "10ms"}}""".formatted(es.url(), tmp.resolve("dlq.jsonl"));
    try (GatewayHarness gw = GatewayHarness.start(config("es_ecs", exporter), Map.of())) {
      List<LogRecordData> logs = SdkTelemetry.logs("checkout-ecs", 9);
      try (OtlpHttpLogRecordExporter sdk = OtlpHttpLogRecordExporter.builder()
          .setEndpoint(gw.httpBase() + "/v1/logs").build()) {
        assertThat(sdk.export(logs).join(15, TimeUnit.SECONDS).isSuccess()).isTrue();
      }
      Await.until("9 ECS documents in logs-generic-ecs", Duration.ofSeconds(60),
          () -> ecs("logs-generic-ecs").size() == 9);
      List<JsonObject> docs = ecs("logs-generic-ecs");
      for (LogRecordData r : logs) {
        long id = r.getAttributes().get(io.opentelemetry.api.common.AttributeKey.longKey("order.id"));
        JsonObject d = docs.stream().filter(x -> x.getJsonObject("numeric_labels").getLong("order_id") == id)
            .findFirst().orElseThrow();
        assertThat(d.getString("message")).isEqualTo("order " + id + " placed");
        assertThat(d.getJsonObject("log").getString("level")).isEqualTo(r.getSeverityText());
        assertThat(d.getJsonObject("log").getString("logger")).isEqualTo("shop.logs");
        assertThat(d.getJsonObject("event").getInteger("severity")).isEqualTo(r.getSeverity().getSeverityNumber());
        assertThat(d.getJsonObject("event").getString("dataset")).isEqualTo("generic");
        assertThat(d.getJsonObject("service")).isEqualTo(new JsonObject().put("name", "checkout-ecs")
            .put("namespace", "shop").put("environment", "test"));
        assertThat(d.getJsonObject("trace").getString("id")).isEqualTo(r.getSpanContext().getTraceId());
        assertThat(d.getJsonObject("span").getString("id")).isEqualTo(r.getSpanContext().getSpanId());
        assertThat(d.getJsonObject("ecs").getString("version")).isEqualTo(EcsDocumentMapper.ECS_VERSION);
        assertThat(d.getString("@timestamp")).isEqualTo(timestamp(r));
      }
      JsonObject mapping = es.get("/logs-generic-ecs/_mapping");
      JsonObject props = mapping.getJsonObject(mapping.fieldNames().iterator().next()).getJsonObject("mappings")
          .getJsonObject("properties");
      assertThat(props.getJsonObject("trace").getJsonObject("properties").getJsonObject("id").getString("type"))
          .isEqualTo("keyword");
      assertThat(props.getJsonObject("message").getString("type")).isEqualTo("text");
      assertThat(Files.exists(tmp.resolve("dlq.jsonl"))).isFalse();
    }
  }

  /** The record's time, or its observed time when it has none (as the SDK emits unless told a time). */
  static String timestamp(LogRecordData r) {
    long nanos = r.getTimestampEpochNanos() != 0 ? r.getTimestampEpochNanos() : r.getObservedTimestampEpochNanos();
    return Instant.ofEpochSecond(0, nanos).toString();
  }

  /**
   * Routing rules choose the data stream (by tenant header) or an index (by service); the route wins over data_stream
   * attributes an application put on its records, so a tenant cannot write into another tenant's stream.
   */
  @Test
  void routingRulesChooseDataStreamOrIndex() throws Exception {
    Path routes = tmp.resolve("routes.json");
    Files.writeString(routes, """
        {"tenant": {"header": "X-Scope-OrgID"},
         "rules": [
          {"id": "acme", "match": {"tenant": "acme"}, "elasticsearch": {"dataset": "payments", "namespace": "acme"}},
          {"id": "audit", "match": {"resource": {"service.name": "routed-audit"}},
           "elasticsearch": {"index": "audit-logs"}}]}""");
    String config = """
        {"receivers": {"otlp": {"type": "otlp",
            "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
          "exporters": {"es_otel": {"type": "elasticsearch", "endpoints": ["%s"], "batch": {"timeout": "10ms"}}},
          "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["es_otel"]}},
          "routing": {"file": "%s"},
          "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
          "logging": {"level": "warn"}}""".formatted(es.url(), routes);
    try (GatewayHarness gw = GatewayHarness.start(config, Map.of())) {
      HttpClient client = HttpClient.newHttpClient();
      for (String[] send : new String[][] {{"acme", "routed-acme"}, {null, "routed-audit"}, {null, "routed-default"}}) {
        String json = """
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"%s"}}]},
              "scopeLogs":[{"logRecords":[{"timeUnixNano":"1700000000000000001","body":{"stringValue":"hi"},
                "attributes":[{"key":"data_stream.dataset","value":{"stringValue":"someone-else"}}]}]}]}]}"""
            .formatted(send[1]);
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/logs"))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        if (send[0] != null) {
          req.header("X-Scope-OrgID", send[0]);
        }
        assertThat(client.send(req.build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
      }
      Await.until(() -> "routed documents; indices: " + es.raw("/_cat/indices?v"), Duration.ofSeconds(60),
          () -> ecs("logs-payments-acme").size() == 1 && ecs("audit-logs").size() == 1
              && search("logs-someone_else-default", "routed-default").size() == 1);
      JsonObject acme = ecs("logs-payments-acme").get(0);
      assertThat(acme.getJsonObject("resource").getJsonObject("attributes").getString("service.name"))
          .isEqualTo("routed-acme");
      assertThat(acme.getJsonObject("data_stream")).isEqualTo(new JsonObject().put("type", "logs")
          .put("dataset", "payments").put("namespace", "acme"));
      assertThat(acme.getJsonObject("attributes", new JsonObject()).containsKey("data_stream.dataset")).isFalse();
      JsonObject audit = ecs("audit-logs").get(0);
      assertThat(audit.containsKey("data_stream")).isFalse();
      assertThat(audit.encode()).contains("routed-audit");
    }
  }

  /** With content-derived IDs a batch sent twice (as a replay after a crash would) is indexed once. */
  @Test
  void contentHashIdsMakeAReplayIdempotent() throws Exception {
    String exporter = """
        {"type": "elasticsearch", "endpoints": ["%s"], "document_id": "content_hash",
         "batch": {"timeout": "10ms"}}""".formatted(es.url());
    try (GatewayHarness gw = GatewayHarness.start(config("es_otel", exporter), Map.of())) {
      String json = """
          {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"replayed"}}]},
            "scopeLogs":[{"logRecords":[
              {"timeUnixNano":"1700000000000000001","body":{"stringValue":"one"}},
              {"timeUnixNano":"1700000000000000002","body":{"stringValue":"two"}},
              {"timeUnixNano":"1700000000000000003","body":{"stringValue":"three"}}]}]}]}""";
      HttpClient client = HttpClient.newHttpClient();
      for (int i = 0; i < 2; i++) {
        assertThat(client.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/logs"))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
            HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        if (i == 0) {
          Await.until("first copy indexed", Duration.ofSeconds(60),
              () -> search("logs-generic-default", "replayed").size() == 3);
        }
      }
      Await.until("the second copy recognised", Duration.ofSeconds(60),
          () -> gw.counter("gateway.exporter.elasticsearch.documents.already.indexed") == 3);
      es.post("/logs-generic-default/_refresh", "{}");
      assertThat(search("logs-generic-default", "replayed")).hasSize(3);
      assertThat(gw.counter("gateway.exporter.items.sent")).isEqualTo(6);
    }
  }

  static List<JsonObject> search(String index, String service) {
    try {
      return es.search(index, "{\"query\":{\"term\":{\"resource.attributes.service.name\":\"" + service + "\"}}}");
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  static List<JsonObject> ecs(String index) {
    try {
      return es.search(index, "{\"query\":{\"match_all\":{}}}");
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }
}
