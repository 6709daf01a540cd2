package dev.telemetry.gateway.connector;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.otlp.OtlpJson;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.PrometheusServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.LongHistogram;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.export.PeriodicMetricReader;
import io.opentelemetry.sdk.resources.Resource;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * All three connectors end to end on a known workload ({@link AnalyticsWorkload}: services calling each other over
 * HTTP and a database, failures, slow calls, model calls of several models) sent by the OpenTelemetry Java SDK, with
 * a tail sampler that keeps only error traces. A real Prometheus receives the derived metrics by remote-write; PromQL
 * must give exactly what was sent: calls and errors per service and route, every edge with its count, cost to the
 * cent from the price table (also after the table is changed on disk, and for an SDK's own token usage metrics), and
 * exemplars pointing at traces the sampler kept.
 */
class AnalyticsIT {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "processors": {"errors-only": {"type": "tail_sampling", "decision_wait": "1s",
          "policies": [{"name": "errors", "type": "status_code", "status_codes": ["ERROR"]}]}},
        "connectors": {
          "red": {"type": "span_metrics", "dimensions": ["http.route"], "flush_interval": "500ms"},
          "graph": {"type": "service_graph", "wait": "1s", "flush_interval": "500ms"},
          "genai": {"type": "gen_ai_metrics", "price_table": "{{PRICES}}", "reload_interval": "200ms",
            "allocation_attributes": ["team", "feature"], "state_file": "{{STATE}}", "flush_interval": "500ms"}},
        "exporters": {
          "jaeger": {"type": "otlp", "endpoint": "http://127.0.0.1:{{SINK}}", "compression": "none",
            "batch": {"timeout": "10ms"}},
          "prometheus": {"type": "prometheus_remote_write", "endpoint": "{{PROM}}", "batch": {"timeout": "10ms"}}},
        "pipelines": {
          "traces": {"receivers": ["otlp"], "processors": ["errors-only"],
            "exporters": ["jaeger", "red", "graph", "genai"]},
          "metrics": {"receivers": ["otlp", "red", "graph", "genai"], "exporters": ["prometheus", "genai"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "warn"}
      }""";

  static final String PRICES = """
      {"prices": [
        {"provider": "openai", "model": "gpt-4o", "input_per_million": 2.5, "output_per_million": 10},
        {"provider": "openai", "model": "gpt-4o-mini*", "input_per_million": 0.15, "output_per_million": 0.6,
         "cached_input_per_million": 0.075},
        {"provider": "anthropic", "model": "claude-sonnet-4", "input_per_million": 3, "output_per_million": 15}]}""";

  @TempDir
  Path tmp;

  @Test
  void derivedMetricsEqualTheWorkloadWhileTheSamplerKeepsOnlyErrors() throws Exception {
    Path prices = tmp.resolve("prices.json");
    Files.writeString(prices, PRICES);
    Vertx vertx = Vertx.vertx();
    OtlpSink sink = new OtlpSink(vertx, Ports.free()).start();
    try (PrometheusServer prom = new PrometheusServer(Ports.free(), tmp.resolve("prom")).start();
         GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("PROM", prom.writeEndpoint(),
             "SINK", Integer.toString(sink.port()), "PRICES", prices.toString(),
             "STATE", tmp.resolve("state/genai.json").toString()))) {
      try (AnalyticsWorkload w = new AnalyticsWorkload(service -> gw.grpcEndpoint())) {
        w.shop();
        w.assistant("search");
        assertThat(w.flush()).isTrue();
        Await.until("the first round's cost in Prometheus", Duration.ofSeconds(30),
            () -> cent(prom, "sum(gen_ai_client_cost_usd_total)", 8.025)); // 4.5 + 0.525 + 3.0
        // The price of gpt-4o doubles on disk; the next round is priced by the new table.
        Files.writeString(prices, PRICES.replace("\"input_per_million\": 2.5, \"output_per_million\": 10",
            "\"input_per_million\": 5, \"output_per_million\": 20"));
        Await.until("the new price table loaded", Duration.ofSeconds(10), () -> gw.registry
            .find("gateway.connector.gen_ai_metrics.price_table.reloads").tag("outcome", "ok").counter()
            .count() == 2);
        w.assistant("search-v2");
        assertThat(w.flush()).isTrue();
      }
      // An SDK that records gen_ai.client.token.usage itself: 1M claude input tokens, 3 USD.
      try (SdkMeterProvider meters = SdkMeterProvider.builder()
          .setResource(Resource.create(Attributes.of(AttributeKey.stringKey("service.name"), "rag-indexer")))
          .registerMetricReader(PeriodicMetricReader.builder(OtlpGrpcMetricExporter.builder()
              .setEndpoint(gw.grpcEndpoint()).build()).setInterval(Duration.ofMillis(200)).build()).build()) {
        LongHistogram usage = meters.get("sdk").histogramBuilder("gen_ai.client.token.usage").ofLongs()
            .setUnit("{token}").build();
        usage.record(1_000_000, Attributes.builder().put("gen_ai.token.type", "input")
            .put("gen_ai.provider.name", "anthropic").put("gen_ai.request.model", "claude-sonnet-4").build());
        assertThat(meters.forceFlush().join(10, TimeUnit.SECONDS).isSuccess()).isTrue();
      }
      // Cost: round 1 8.025, round 2 (gpt-4o at the new price) 9.0 + 0.525 + 3.0, the SDK's own metric 3.0.
      Await.until("all cost in Prometheus", Duration.ofSeconds(30),
          () -> cent(prom, "sum(gen_ai_client_cost_usd_total)", 23.55));
      assertThat(value(prom, "sum(gen_ai_client_cost_usd_total{feature=\"search\"})")).isCloseTo(7.5, CENT);
      assertThat(value(prom, "sum(gen_ai_client_cost_usd_total{feature=\"search-v2\"})")).isCloseTo(12.0, CENT);
      assertThat(value(prom, "sum(gen_ai_client_cost_usd_total{feature=\"support\"})")).isCloseTo(1.05, CENT);
      assertThat(value(prom, "sum(gen_ai_client_cost_usd_total{service_name=\"rag-indexer\"})")).isCloseTo(3.0, CENT);
      assertThat(value(prom, "sum(gen_ai_client_cost_usd_total{team=\"ml\",gen_ai_response_model=\"gpt-4o\"})")).isCloseTo(13.5, CENT);
      assertThat(value(prom, "sum(gen_ai_client_cost_usd_total{gen_ai_token_type=\"cached_input\"})")).isCloseTo(0.15, CENT); // 2 rounds × 10 calls × 100k cached at 0.075
      assertThat(value(prom, "sum(gen_ai_client_token_usage_sum{gen_ai_token_type=\"output\"})"))
          .isEqualTo(2 * (10 * 20_000 + 10 * 50_000 + 10 * 10_000 + 5 * 100));
      assertThat(value(prom, "sum(gen_ai_client_operation_duration_seconds_count)")).isEqualTo(70);
      Await.until("month to date", Duration.ofSeconds(10),
          () -> cent(prom, "sum(gen_ai_client_cost_month_to_date_usd)", 23.55));
      assertThat(value(prom, "sum(gen_ai_client_cost_month_end_projection_usd)")).isGreaterThanOrEqualTo(23.55);
      assertThat(gw.registry.find("gateway.connector.gen_ai_metrics.tokens").tag("priced", "false")
          .functionCounter().count()).isEqualTo(2 * 5 * 1100);

      // RED metrics: every span, exact per service and route.
      int spans = AnalyticsWorkload.CHECKOUTS * 6 + 2 * AnalyticsWorkload.ASKS * 2;
      Await.until("every span counted", Duration.ofSeconds(30),
          () -> value(prom, "sum(traces_span_metrics_calls_total)") == spans);
      assertThat(value(prom, "sum(traces_span_metrics_calls_total{service_name=\"frontend\","
          + "span_name=\"GET /checkout\"})")).isEqualTo(100);
      assertThat(value(prom, "sum(traces_span_metrics_calls_total{service_name=\"frontend\","
          + "http_route=\"/checkout\",status_code=\"STATUS_CODE_ERROR\"})")).isEqualTo(10);
      assertThat(value(prom, "sum(traces_span_metrics_calls_total{service_name=\"payments\",http_route=\"/pay\","
          + "status_code=\"STATUS_CODE_ERROR\"})")).isEqualTo(10);
      assertThat(value(prom, "sum(traces_span_metrics_calls_total{service_name=\"cart\",http_route=\"/cart\"})"))
          .isEqualTo(100);
      assertThat(value(prom, "sum(traces_span_metrics_duration_milliseconds_bucket{service_name=\"payments\","
          + "span_kind=\"SPAN_KIND_SERVER\",le=\"1000\"})")).isEqualTo(75);

      // The service graph: every edge with its exact count, virtual nodes for the database, models and users.
      Await.until("every edge", Duration.ofSeconds(30), () -> value(prom,
          "sum(traces_service_graph_request_total)") == 100 * 4 + 2 * (35 + 35));
      assertThat(edges(prom, "traces_service_graph_request_total")).containsExactlyInAnyOrderEntriesOf(Map.of(
          "user->frontend (virtual_node)", 100L,
          "frontend->payments ()", 100L,
          "frontend->cart ()", 100L,
          "cart->carts (database)", 100L,
          "user->assistant (virtual_node)", 70L,
          "assistant->api.openai.com (virtual_node)", 50L,
          "assistant->api.anthropic.com (virtual_node)", 20L));
      assertThat(edges(prom, "traces_service_graph_request_failed_total")).containsEntry(
          "frontend->payments ()", 10L).containsEntry("user->frontend (virtual_node)", 10L)
          .containsEntry("frontend->cart ()", 0L);
      assertThat(value(prom, "sum(traces_service_graph_request_server_seconds_bucket{client=\"frontend\","
          + "server=\"payments\",le=\"1\"})")).isEqualTo(75);

      // The trace backend got only the error traces; the exemplars point at them.
      Await.until("the error traces exported", Duration.ofSeconds(15), () -> sink.spans().size() >= 60);
      Set<String> kept = sink.spans().stream().map(s -> OtlpJson.toHex(s.getTraceId())).collect(Collectors.toSet());
      assertThat(kept).hasSize(10);
      String series = "traces_span_metrics_duration_milliseconds_bucket{service_name=\"frontend\","
          + "span_name=\"GET /cart\"}";
      Await.until("an exemplar of a kept trace", Duration.ofSeconds(15), () -> latestExemplarTrace(prom, series)
          != null && kept.contains(latestExemplarTrace(prom, series)));
      Thread.sleep(1500); // more flushes: the kept exemplar stays
      assertThat(kept).contains(latestExemplarTrace(prom, series));
    } finally {
      sink.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    // Month-to-date survives the restart: written at stop.
    JsonObject state = new JsonObject(Files.readString(tmp.resolve("state/genai.json")));
    double mtd = state.getJsonArray("accounts").stream().mapToDouble(a -> ((JsonObject) a)
        .getDouble("month_to_date")).sum();
    assertThat(mtd).isCloseTo(23.55, CENT);
  }

  /** The trace ID of the newest exemplar of the series, or null. */
  static String latestExemplarTrace(PrometheusServer prom, String series) {
    try {
      long now = System.currentTimeMillis() / 1000;
      JsonArray result = prom.exemplars(series, now - 600, now + 60);
      String trace = null;
      double newest = -1;
      for (Object o : result) {
        for (Object e : ((JsonObject) o).getJsonArray("exemplars")) {
          JsonObject ex = (JsonObject) e;
          if (ex.getDouble("timestamp") >= newest) {
            newest = ex.getDouble("timestamp");
            trace = ex.getJsonObject("labels").getString("trace_id");
          }
        }
      }
      return trace;
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }

  /** Edge counts by "client->server (connection_type)", summed over gateway instances. */
  static Map<String, Long> edges(PrometheusServer prom, String metric) throws Exception {
    JsonArray r = prom.query("sum by (client, server, connection_type) (" + metric + ")");
    return r.stream().map(o -> (JsonObject) o).collect(Collectors.toMap(o -> {
      JsonObject m = o.getJsonObject("metric");
      return m.getString("client") + "->" + m.getString("server") + " (" + m.getString("connection_type", "")
          + ")";
    }, o -> (long) Double.parseDouble(o.getJsonArray("value").getString(1))));
  }

  /** To the cent. */
  static final org.assertj.core.data.Offset<Double> CENT = org.assertj.core.data.Offset.offset(0.005);

  static boolean cent(PrometheusServer prom, String promql, double usd) {
    return Math.abs(value(prom, promql) - usd) < 0.005;
  }

  static double value(PrometheusServer prom, String promql) {
    try {
      JsonArray r = prom.query(promql);
      return r.isEmpty() ? -1 : Double.parseDouble(r.getJsonObject(0).getJsonArray("value").getString(1));
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }
}
