package dev.telemetry.gateway.alerting;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.AlertmanagerServer;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.RecordingServer;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SLOs in a 3-member cluster: one member receives all of checkout's failures, the other two its successes. Alone,
 * the first member's share is 100 % errors; the members share their counts, so each judges the cluster's ratio —
 * below the page threshold at first (nothing fires anywhere), then above it — and exactly one member (the ring's
 * owner of the SLO) sends the alert: PagerDuty is paged once.
 */
class ClusterSloIT {
  static final Path JAR = Path.of(System.getProperty("gateway.jar", "target/telemetry-gateway.jar"));
  static final String TOKEN = "cluster-slo-it-token-0123456789";
  static final String SLOS = """
      {"slos": [{"name": "checkout-availability", "service": "checkout", "objective": 99, "window": "1d",
        "sli": {"type": "availability", "match": {"http_route": "/checkout"}},
        "alerting": {"rules": [{"severity": "page", "long_window": "2m", "short_window": "1m", "burn_rate": 10}],
                     "runbook_url": "https://runbooks.example/checkout-availability"}}]}""";

  @TempDir
  Path tmp;

  final HttpClient http = HttpClient.newHttpClient();
  volatile int errorsPerTick = 3;

  record Node(int grpc, int admin, Process process) {
  }

  @Test
  void membersJudgeTheClusterTotalsAndPageOnce() throws Exception {
    Vertx vertx = Vertx.vertx();
    RecordingServer saas = new RecordingServer(vertx);
    List<Node> nodes = new ArrayList<>();
    List<SdkTracerProvider> clients = new ArrayList<>();
    AtomicBoolean sending = new AtomicBoolean(true);
    Thread traffic = null;
    try (AlertmanagerServer am = new AlertmanagerServer(Ports.free(), tmp.resolve("am"),
        SloAlertingIT.alertmanagerConfig(saas, tmp)).start()) {
      Path slos = tmp.resolve("slos.json");
      Files.writeString(slos, SLOS);
      int[] hz = {Ports.free(), Ports.free(), Ports.free()};
      for (int i = 0; i < 3; i++) {
        nodes.add(start(i, hz, slos, am.base()));
      }
      Await.until("a ring of 3 on every member", Duration.ofSeconds(90), () -> nodes.stream().allMatch(n ->
          ringSize(n) == 3));
      for (Node n : nodes) {
        clients.add(SdkTracerProvider.builder()
            .setResource(Resource.create(Attributes.builder().put("service.name", "checkout").build()))
            .addSpanProcessor(BatchSpanProcessor.builder(OtlpGrpcSpanExporter.builder()
                .setEndpoint("http://127.0.0.1:" + n.grpc()).build()).setScheduleDelay(Duration.ofMillis(100))
                .build()).build());
      }
      List<Tracer> tracers = clients.stream().map(c -> c.get("it")).toList();
      traffic = new Thread(() -> send(tracers, sending), "traffic");
      traffic.start();

      // 3 failures a tick on member 0, 30 successes a tick on each of the others: ~5 % errors in all. Until a
      // whole minute was judged.
      long judged = (System.currentTimeMillis() / 60_000 + 1) * 60_000 + 4_000;
      Thread.sleep(judged - System.currentTimeMillis());
      for (Node n : nodes) {
        JsonObject slo = api(n, "/api/v1/slos").getJsonArray("slos").getJsonObject(0);
        assertThat(slo.getJsonObject("firing")).as("member %s judges the cluster's ratio", n.admin()).isEmpty();
        assertThat(slo.getJsonObject("events").getDouble("total")).isGreaterThan(400);
      }
      assertThat(saas.received("/pagerduty")).isEmpty();

      // 20 failures a tick: ~25 % in all.
      errorsPerTick = 20;
      Await.until("the page", Duration.ofSeconds(150), () -> !SloAlertingIT.events(saas, "trigger").isEmpty());
      Thread.sleep(10_000); // every member fires; a second page would come now
      assertThat(SloAlertingIT.events(saas, "trigger")).as("one page from three members").hasSize(1);
      long sending3 = nodes.stream().filter(n -> !api(n, "/api/v1/alerts").getJsonArray("firing").isEmpty())
          .count();
      assertThat(sending3).as("members sending the alert (the SLO's owner only)").isEqualTo(1);
      for (Node n : nodes) {
        assertThat(api(n, "/api/v1/slos").getJsonArray("slos").getJsonObject(0).getJsonObject("firing")
            .containsKey("page")).isTrue();
      }
    } finally {
      sending.set(false);
      if (traffic != null) {
        traffic.join(10_000);
      }
      clients.forEach(c -> c.shutdown().join(10, TimeUnit.SECONDS));
      for (Node n : nodes) {
        n.process().destroy();
      }
      for (Node n : nodes) {
        if (!n.process().waitFor(30, TimeUnit.SECONDS)) {
          n.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
      saas.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  void send(List<Tracer> tracers, AtomicBoolean sending) {
    while (sending.get()) {
      Instant start = Instant.now();
      for (int i = 0; i < errorsPerTick; i++) {
        span(tracers.get(0), start, true);
      }
      for (int i = 0; i < 30; i++) {
        span(tracers.get(1), start, false);
        span(tracers.get(2), start, false);
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  static void span(Tracer tracer, Instant start, boolean error) {
    Span s = tracer.spanBuilder("POST /checkout").setSpanKind(SpanKind.SERVER).setStartTimestamp(start)
        .setAttribute("http.route", "/checkout").startSpan();
    if (error) {
      s.setStatus(StatusCode.ERROR);
    }
    s.end(start.plusMillis(20));
  }

  Node start(int index, int[] hz, Path slos, String alertmanager) throws Exception {
    int grpc = Ports.free();
    int httpPort = Ports.free();
    int admin = Ports.free();
    int eventBus = Ports.free();
    Path config = tmp.resolve("node" + index + ".json");
    Files.writeString(config, """
        {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:%d"},
                                "http": {"endpoint": "127.0.0.1:%d"}}},
         "connectors": {"red": {"type": "span_metrics", "dimensions": ["http.route"], "flush_interval": "1s"}},
         "exporters": {"traces": {"type": "file", "directory": "%s/traces%d"},
                       "metrics": {"type": "file", "directory": "%s/metrics%d"}},
         "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["traces", "red"]},
                       "metrics": {"receivers": ["red"], "exporters": ["metrics"]}},
         "slos": {"file": "%s", "evaluation_interval": "1s"},
         "alerting": {"alertmanagers": ["%s"], "resend_interval": "2s"},
         "admin": {"endpoint": "127.0.0.1:%d", "token": "%s"},
         "cluster": {"name": "slo-%s", "bind": "127.0.0.1:%d", "event_bus": "127.0.0.1:%d", "failure_timeout": "4s",
           "discovery": {"type": "tcp", "members": ["127.0.0.1:%d", "127.0.0.1:%d", "127.0.0.1:%d"]}}}"""
        .formatted(grpc, httpPort, tmp, index, tmp, index, slos, alertmanager, admin, TOKEN, tmp.getFileName(),
            hz[index], eventBus, hz[0], hz[1], hz[2]));
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
        "-XX:+ExitOnOutOfMemoryError", "-jar", JAR.toAbsolutePath().toString(), "--config", config.toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(tmp.resolve("node" + index + ".log").toFile())).start();
    return new Node(grpc, admin, p);
  }

  int ringSize(Node n) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.admin()
          + "/cluster")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? new JsonObject(r.body()).getJsonArray("ring").size() : -1;
    } catch (Exception e) {
      return -1;
    }
  }

  JsonObject api(Node n, String path) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + n.admin() + path))
          .header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      return new JsonObject(r.body());
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }
}
