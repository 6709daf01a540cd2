package dev.telemetry.gateway.connector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Http;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.PrometheusServer;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The analytics workload through a 3-member cluster, each service sending to a different member (so the two spans of
 * most edges arrive at different members): the service graph pairs them on the trace's owner, and Prometheus —
 * summing the members' series, told apart by their instance label — gives the same edges and counts as one gateway.
 */
class ClusterAnalyticsIT {
  static final Path JAR = Path.of(System.getProperty("gateway.jar", "target/telemetry-gateway.jar"));

  @TempDir
  Path tmp;

  final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  record Node(int grpc, int http, int admin, int eventBus, int hazelcast, Process process) {
    String endpoint() {
      return "http://127.0.0.1:" + grpc;
    }
  }

  @Test
  void threeMembersGiveTheSameEdgesAndCountsAsOne() throws Exception {
    Vertx vertx = Vertx.vertx();
    OtlpSink sink = new OtlpSink(vertx, Ports.free()).start();
    List<Node> nodes = new ArrayList<>();
    try (PrometheusServer prom = new PrometheusServer(Ports.free(), tmp.resolve("prom")).start()) {
      int[] hz = {Ports.free(), Ports.free(), Ports.free()};
      for (int i = 0; i < 3; i++) {
        nodes.add(start(i, hz, prom.writeEndpoint(), sink.port()));
      }
      Await.until("a ring of 3 on every member", Duration.ofSeconds(90), () -> nodes.stream().allMatch(n ->
          ringSize(n) == 3));
      String[] services = {"frontend", "payments", "cart", "assistant"};
      try (AnalyticsWorkload w = new AnalyticsWorkload(s -> nodes.get(java.util.Arrays.asList(services).indexOf(s)
          % 3).endpoint())) {
        w.shop();
        w.assistant("search");
        assertThat(w.flush()).isTrue();
      }
      int spans = AnalyticsWorkload.CHECKOUTS * 6 + AnalyticsWorkload.ASKS * 2;
      Await.until("every span counted", Duration.ofSeconds(60),
          () -> AnalyticsIT.value(prom, "sum(traces_span_metrics_calls_total)") == spans);
      Await.until("every edge", Duration.ofSeconds(60), () -> AnalyticsIT.value(prom,
          "sum(traces_service_graph_request_total)") == 100 * 4 + 35 * 2);
      assertThat(AnalyticsIT.edges(prom, "traces_service_graph_request_total")).containsExactlyInAnyOrderEntriesOf(
          Map.of("user->frontend (virtual_node)", 100L,
              "frontend->payments ()", 100L,
              "frontend->cart ()", 100L,
              "cart->carts (database)", 100L,
              "user->assistant (virtual_node)", 35L,
              "assistant->api.openai.com (virtual_node)", 25L,
              "assistant->api.anthropic.com (virtual_node)", 10L));
      assertThat(AnalyticsIT.edges(prom, "traces_service_graph_request_failed_total"))
          .containsEntry("frontend->payments ()", 10L);
      assertThat(AnalyticsIT.value(prom, "sum(traces_span_metrics_calls_total{service_name=\"payments\","
          + "status_code=\"STATUS_CODE_ERROR\"})")).isEqualTo(10);
      assertThat(AnalyticsIT.value(prom, "sum(gen_ai_client_cost_usd_total)")).isCloseTo(8.025, AnalyticsIT.CENT);
      // Edges were paired across members: the members' series are told apart by instance, none collide.
      JsonArray instances = prom.query("count by (instance) (traces_service_graph_request_total)");
      assertThat(instances.size()).isGreaterThanOrEqualTo(2);
      double unpaired = 0;
      for (Node n : nodes) {
        unpaired += Http.metric(client, n.admin(), "gateway_connector_service_graph_unpaired_spans_total");
      }
      assertThat(unpaired).as("spans whose other half went to another member and never met").isZero();
    } finally {
      for (Node n : nodes) {
        n.process().destroy();
      }
      for (Node n : nodes) {
        if (!n.process().waitFor(30, TimeUnit.SECONDS)) {
          n.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
      sink.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  Node start(int index, int[] hz, String prom, int sink) throws Exception {
    int grpc = Ports.free();
    int http = Ports.free();
    int admin = Ports.free();
    int eventBus = Ports.free();
    Path prices = tmp.resolve("prices.json");
    Files.writeString(prices, AnalyticsIT.PRICES);
    Path config = tmp.resolve("node" + index + ".json");
    Files.writeString(config, """
        {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:%d"},
                                "http": {"endpoint": "127.0.0.1:%d"}}},
         "processors": {"errors-only": {"type": "tail_sampling", "decision_wait": "1s",
           "policies": [{"name": "errors", "type": "status_code", "status_codes": ["ERROR"]}]}},
         "connectors": {
           "red": {"type": "span_metrics", "dimensions": ["http.route"], "flush_interval": "500ms"},
           "graph": {"type": "service_graph", "wait": "2s", "flush_interval": "500ms"},
           "genai": {"type": "gen_ai_metrics", "price_table": "%s", "flush_interval": "500ms"}},
         "exporters": {
           "jaeger": {"type": "otlp", "endpoint": "http://127.0.0.1:%d", "compression": "none",
             "batch": {"timeout": "10ms"}},
           "prometheus": {"type": "prometheus_remote_write", "endpoint": "%s", "batch": {"timeout": "10ms"}}},
         "pipelines": {
           "traces": {"receivers": ["otlp"], "processors": ["errors-only"],
             "exporters": ["jaeger", "red", "graph", "genai"]},
           "metrics": {"receivers": ["otlp", "red", "graph", "genai"], "exporters": ["prometheus"]}},
         "admin": {"endpoint": "127.0.0.1:%d"},
         "cluster": {"name": "analytics-%s", "bind": "127.0.0.1:%d", "event_bus": "127.0.0.1:%d",
           "failure_timeout": "4s",
           "discovery": {"type": "tcp", "members": ["127.0.0.1:%d", "127.0.0.1:%d", "127.0.0.1:%d"]}}}"""
        .formatted(grpc, http, prices, sink, prom, admin, tmp.getFileName(), hz[index], eventBus, hz[0], hz[1],
            hz[2]));
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-XX:+ExitOnOutOfMemoryError", "-jar", JAR.toAbsolutePath().toString(), "--config", config.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(tmp.resolve("node" + index + ".log").toFile())).start();
    return new Node(grpc, http, admin, eventBus, hz[index], p);
  }

  int ringSize(Node n) {
    try {
      var r = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + n.admin()
          + "/cluster")).timeout(Duration.ofSeconds(5)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? new JsonObject(r.body()).getJsonArray("ring").size() : -1;
    } catch (Exception e) {
      return -1;
    }
  }
}
