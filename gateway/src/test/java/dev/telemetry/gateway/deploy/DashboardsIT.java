package dev.telemetry.gateway.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.telemetry.gateway.connector.AnalyticsWorkload;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.PrometheusServer;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.vertx.core.json.JsonArray;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboards in deploy/grafana without Grafana: a real Prometheus scrapes a real gateway (one-member
 * cluster, every component the dashboards show) and receives its derived metrics by remote-write while the analytics
 * workload, a redacted e-mail, a malformed request and a backend that refuses run through it. Then every panel's
 * PromQL — variables substituted as Grafana would with "All" — must run without error and return data, every
 * variable's label_values query must find values, uids are unique and every panel reads the templated data source.
 */
class DashboardsIT {
  static final Path ROOT = Path.of(System.getProperty("gateway.repo.root", ".."));
  static final Path JAR = Path.of(System.getProperty("gateway.jar", "target/telemetry-gateway.jar"));
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path tmp;

  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void everyPanelQueryReturnsDataFromARealGatewayAndPrometheus() throws Exception {
    int grpc = Ports.free();
    int httpPort = Ports.free();
    int admin = Ports.free();
    int hz = Ports.free(); // a one-member cluster: the cluster panels have data
    Path slos = tmp.resolve("slos.json");
    // The shipped SLOs, and one the workload breaks (10 % of payments fail), so alert panels have changes to show.
    io.vertx.core.json.JsonObject sloFile = new io.vertx.core.json.JsonObject(Files.readString(
        ROOT.resolve("deploy/kubernetes/base/slos.json")));
    sloFile.getJsonArray("slos").add(new io.vertx.core.json.JsonObject().put("name", "payments-availability")
        .put("service", "payments").put("objective", 99).put("window", "1d")
        .put("sli", new io.vertx.core.json.JsonObject().put("type", "availability"))
        .put("alerting", new io.vertx.core.json.JsonObject().put("rules", new JsonArray().add(
            new io.vertx.core.json.JsonObject().put("severity", "ticket").put("long_window", "2m")
                .put("short_window", "1m").put("burn_rate", 2)))));
    Files.writeString(slos, sloFile.encodePrettily());
    Path routes = tmp.resolve("routes.json");
    Files.writeString(routes, """
        {"rules": [{"id": "drop-health-checks", "match": {"signal": "traces", "span_name": {"regex": "^GET /healthz$"}},
                    "drop": true}]}""");
    Process gateway = null;
    try (PrometheusServer prom = new PrometheusServer(Ports.free(), tmp.resolve("prom"),
        List.of("127.0.0.1:" + admin)).start()) {
      Path config = tmp.resolve("gateway.json");
      Files.writeString(config, """
          {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:%d"},
                                  "http": {"endpoint": "127.0.0.1:%d"}}},
           "processors": {
             "pii": {"type": "redaction", "rules": [{"name": "emails", "detector": "email", "action": "mask"}]},
             "sampling": {"type": "tail_sampling", "decision_wait": "1s",
               "policies": [{"name": "errors", "type": "status_code", "status_codes": ["ERROR"]}]}},
           "connectors": {"red": {"type": "span_metrics", "dimensions": ["http.route"], "flush_interval": "1s"},
             "graph": {"type": "service_graph", "wait": "1s", "flush_interval": "1s"},
             "genai": {"type": "gen_ai_metrics", "price_table": "%s", "allocation_attributes": ["team", "feature"],
                       "flush_interval": "1s"}},
           "exporters": {"jaeger": {"type": "file", "directory": "%s/traces"},
             "prometheus": {"type": "prometheus_remote_write", "endpoint": "%s", "batch": {"timeout": "100ms"}},
             "refusing": {"type": "otlp", "endpoint": "http://127.0.0.1:1", "retry": {"enabled": false}}},
           "pipelines": {
             "traces": {"receivers": ["otlp"], "processors": ["pii", "sampling"],
                        "exporters": ["jaeger", "red", "graph", "genai"]},
             "metrics": {"receivers": ["otlp", "red", "graph", "genai"], "exporters": ["prometheus"]},
             "logs": {"receivers": ["otlp"], "exporters": ["refusing"]}},
           "routing": {"file": "%s"},
           "slos": {"file": "%s", "evaluation_interval": "1s"},
           "alerting": {"alertmanagers": ["http://127.0.0.1:1"], "resend_interval": "2s"},
           "admin": {"endpoint": "127.0.0.1:%d"},
           "cluster": {"name": "dash-%s", "bind": "127.0.0.1:%d", "event_bus": "127.0.0.1:%d",
             "discovery": {"type": "tcp", "members": ["127.0.0.1:%d"]}}}"""
          .formatted(grpc, httpPort, ROOT.resolve("config/examples/genai/prices.json").toAbsolutePath(), tmp,
              prom.writeEndpoint(), routes, slos, admin, tmp.getFileName(), hz, Ports.free(), hz));
      gateway = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx384m",
          "-XX:+ExitOnOutOfMemoryError", "-jar", JAR.toAbsolutePath().toString(), "--config", config.toString())
          .redirectErrorStream(true).redirectOutput(tmp.resolve("gateway.log").toFile()).start();
      Await.until("the gateway ready", Duration.ofSeconds(90), () -> status("http://127.0.0.1:" + admin
          + "/health/ready") == 200);

      // Traffic: the analytics workload, a span with an e-mail, a malformed request, logs the backend refuses.
      String endpoint = "http://127.0.0.1:" + grpc;
      try (AnalyticsWorkload w = new AnalyticsWorkload(s -> endpoint);
           SdkTracerProvider tp = SdkTracerProvider.builder()
               .setResource(Resource.create(Attributes.builder().put("service.name", "signup").build()))
               .addSpanProcessor(BatchSpanProcessor.builder(OtlpGrpcSpanExporter.builder().setEndpoint(endpoint)
                   .build()).setScheduleDelay(Duration.ofMillis(50)).build()).build()) {
        for (int round = 0; round < 3; round++) {
          w.shop();
          w.assistant("search");
          tp.get("it").spanBuilder("POST /signup").setSpanKind(SpanKind.SERVER)
              .setAttribute("enduser.email", "someone@example.com").startSpan().end();
          assertThat(w.flush()).isTrue();
          post(httpPort, "/v1/traces", "application/x-protobuf", new byte[] {0x0a, 0x7f, 0x01});
          post(httpPort, "/v1/logs", "application/json", """
              {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"body": {"stringValue": "hello"}}]}]}]}"""
              .getBytes(StandardCharsets.UTF_8));
          Thread.sleep(4_000);
        }
      }
      Await.until("scraped and remote-written metrics in Prometheus", Duration.ofSeconds(60), () ->
          has(prom, "gateway_exporter_items_failed_total") && has(prom, "traces_service_graph_request_total")
              && has(prom, "gen_ai_client_cost_month_to_date_usd") && has(prom, "gateway_slo_burn_rate"));
      // The payments SLO fires once a whole minute with its failures has been judged.
      Await.until("an SLO alert fired", Duration.ofSeconds(150), () -> has(prom,
          "gateway_alerting_transitions_total"));
      Thread.sleep(3_000);

      Set<String> uids = new HashSet<>();
      List<String> problems = new ArrayList<>();
      int queries = 0;
      try (var files = Files.list(ROOT.resolve("deploy/grafana/dashboards"))) {
        for (Path file : files.sorted().toList()) {
          JsonNode d = JSON.readTree(file.toFile());
          String name = file.getFileName().toString();
          assertThat(uids.add(d.get("uid").asText())).as("unique uid " + d.get("uid")).isTrue();
          List<String> varNames = new ArrayList<>();
          boolean templatedDatasource = false;
          for (JsonNode v : d.at("/templating/list")) {
            varNames.add(v.get("name").asText());
            if (v.get("type").asText().equals("datasource")) {
              templatedDatasource = v.get("query").asText().equals("prometheus");
            } else if (v.get("type").asText().equals("query")) {
              Matcher lv = Pattern.compile("label_values\\((\\w+), (\\w+)\\)").matcher(v.at("/query/query").asText());
              assertThat(lv.matches()).as(name + " variable " + v.get("name")).isTrue();
              JsonArray values = prom.api("/api/v1/label/" + lv.group(2) + "/values?match[]="
                  + URLEncoder.encode(lv.group(1), StandardCharsets.UTF_8)).getJsonArray("result");
              if (values.isEmpty()) {
                problems.add(name + ": variable " + v.get("name").asText() + " finds no values");
              }
            }
          }
          assertThat(templatedDatasource).as(name + " picks its Prometheus through a variable").isTrue();
          for (JsonNode p : d.get("panels")) {
            assertThat(p.at("/datasource/uid").asText()).as(name + " / " + p.get("title")).isEqualTo("${datasource}");
            for (JsonNode t : p.get("targets")) {
              assertThat(t.at("/datasource/uid").asText()).isEqualTo("${datasource}");
              String expr = substitute(t.get("expr").asText(), varNames);
              queries++;
              try {
                if (prom.query(expr).isEmpty()) {
                  problems.add(name + " / " + p.get("title").asText() + ": no data for " + expr);
                }
              } catch (AssertionError e) {
                problems.add(name + " / " + p.get("title").asText() + ": " + e.getMessage());
              }
            }
          }
        }
      }
      assertThat(uids).hasSizeGreaterThanOrEqualTo(5);
      assertThat(queries).isGreaterThan(40);
      assertThat(problems).as("panels and variables without data").isEmpty();
    } finally {
      if (gateway != null) {
        gateway.destroy();
        if (!gateway.waitFor(30, TimeUnit.SECONDS)) {
          gateway.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    }
  }

  static boolean has(PrometheusServer prom, String metric) {
    try {
      return !prom.query(metric).isEmpty();
    } catch (Exception e) {
      return false;
    }
  }

  /** As Grafana with every multi-value variable on "All" (its allValue ".*") and a rate interval for 1 s scrapes. */
  static String substitute(String expr, List<String> vars) {
    String out = expr.replace("$__rate_interval", "30s");
    for (String v : vars) {
      out = out.replace("$" + v, ".*");
    }
    assertThat(out).as("every variable substituted: " + out).doesNotContain("$");
    return out;
  }

  int status(String url) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  void post(int port, String path, String type, byte[] body) throws Exception {
    http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).header("Content-Type", type)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding());
  }
}
