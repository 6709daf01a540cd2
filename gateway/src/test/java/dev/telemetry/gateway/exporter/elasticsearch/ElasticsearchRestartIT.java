package dev.telemetry.gateway.exporter.elasticsearch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.ElasticsearchServer;
import dev.telemetry.gateway.testing.GatewayHarness;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Elasticsearch stopped mid-stream: the gateway keeps accepting (queued), and delivers everything once it is back. */
class ElasticsearchRestartIT {
  @TempDir
  Path tmp;

  static final HttpClient HTTP = HttpClient.newHttpClient();

  static void send(GatewayHarness gw, int from, int to) throws Exception {
    StringBuilder records = new StringBuilder();
    for (int i = from; i < to; i++) {
      if (records.length() > 0) {
        records.append(',');
      }
      records.append("{\"body\":{\"stringValue\":\"event ").append(i).append("\"},\"attributes\":[{\"key\":\"seq\","
          + "\"value\":{\"intValue\":\"").append(i).append("\"}}]}");
    }
    String json = "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
        + "{\"stringValue\":\"restart\"}}]},\"scopeLogs\":[{\"logRecords\":[" + records + "]}]}]}";
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/logs"))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  static Set<Long> seqs(ElasticsearchServer es) {
    try {
      return es.search("logs-generic-default", "{\"query\":{\"match_all\":{}}}").stream()
          .map(d -> ((JsonObject) d).getJsonObject("attributes").getLong("seq")).collect(Collectors.toCollection(TreeSet::new));
    } catch (Exception e) {
      return Set.of();
    }
  }

  @Test
  void everythingAcceptedWhileElasticsearchWasDownIsDeliveredAfterItRestarts() throws Exception {
    try (ElasticsearchServer es = new ElasticsearchServer().start()) {
      String config = """
          {
            "receivers": {"otlp": {"type": "otlp", "grpc": false, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
            "exporters": {"es": {"type": "elasticsearch", "endpoints": ["%s"], "timeout": "5s",
              "dead_letter_file": "%s", "batch": {"timeout": "10ms"},
              "retry": {"initial_interval": "100ms", "max_interval": "1s", "max_elapsed_time": "10m"}}},
            "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["es"]}},
            "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
            "logging": {"level": "error"}
          }""".formatted(es.url(), tmp.resolve("dlq.jsonl"));
      try (GatewayHarness gw = GatewayHarness.start(config, Map.of())) {
        send(gw, 0, 20);
        Await.until("first 20 indexed", Duration.ofSeconds(60), () -> seqs(es).size() == 20);

        es.stop();
        send(gw, 20, 40);
        send(gw, 40, 60);
        Await.until("the gateway retrying against the stopped node", Duration.ofSeconds(30),
            () -> gw.counter("gateway.exporter.retries") >= 2);
        assertThat(gw.gauge("gateway.queue.items", "exporter", "es")).isEqualTo(40);

        es.start();
        send(gw, 60, 80);
        Await.until(() -> "all 80 indexed after the restart (have " + seqs(es).size() + ")", Duration.ofSeconds(90),
            () -> seqs(es).size() == 80);
        assertThat(seqs(es)).containsExactlyElementsOf(
            java.util.stream.LongStream.range(0, 80).boxed().collect(Collectors.toList()));
        assertThat(gw.counter("gateway.exporter.items.failed")).isZero();
        List<JsonObject> all = es.search("logs-generic-default", "{\"query\":{\"match_all\":{}}}");
        assertThat(all).hasSize(80); // delivered once each: no duplicates from the retries
      }
    }
  }
}
