package dev.telemetry.gateway.alerting;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.AlertmanagerServer;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
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
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SLO alerts end to end: the OpenTelemetry Java SDK drives a healthy checkout service into an outage through the
 * gateway (span_metrics → in-stream SLO evaluation), the alerts go to a real Alertmanager configured from
 * {@code deploy/alertmanager/alertmanager.yml}, whose PagerDuty and Slack receivers point at local recording servers.
 * Alertmanager is down when the outage starts (the gateway's outbox keeps the alerts until it is back); the error
 * signal then flaps; then the service recovers. PagerDuty gets exactly one trigger and one resolve, Slack the ticket
 * and its resolution, each with the SLO's labels, summary and links.
 */
class SloAlertingIT {
  static final String TOKEN = "slo-alerting-it-token-0123456789";
  /** One client for every poll: a client per call keeps its selector and pooled socket open until a GC. */
  final HttpClient http = HttpClient.newHttpClient();
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "connectors": {"red": {"type": "span_metrics", "dimensions": ["http.route"], "flush_interval": "1s"}},
        "exporters": {"traces": {"type": "file", "directory": "{{DIR}}/traces"},
                      "metrics": {"type": "file", "directory": "{{DIR}}/metrics"}},
        "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["traces", "red"]},
                      "metrics": {"receivers": ["red"], "exporters": ["metrics"]}},
        "slos": {"file": "{{SLOS}}", "evaluation_interval": "1s", "state_file": "{{DIR}}/slo-state.json"},
        "alerting": {"alertmanagers": ["{{AM}}"], "resend_interval": "2s", "history_file": "{{DIR}}/alerts.jsonl"},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}", "token": "%s"},
        "logging": {"level": "warn"}
      }""".formatted(TOKEN);
  static final String SLOS = """
      {"slos": [
        {"name": "checkout-availability", "service": "checkout", "tenant": "shop", "objective": 99, "window": "1d",
         "sli": {"type": "availability", "match": {"http_route": "/checkout"}},
         "alerting": {"rules": [{"severity": "page", "long_window": "2m", "short_window": "1m", "burn_rate": 10}],
                      "runbook_url": "https://runbooks.example/checkout-availability",
                      "dashboard_url": "https://grafana.example/d/slo?var-slo=checkout-availability"}},
        {"name": "checkout-latency", "service": "checkout", "objective": 99, "window": "1d",
         "sli": {"type": "latency", "threshold_ms": 400, "match": {"http_route": "/checkout"}},
         "alerting": {"rules": [{"severity": "ticket", "long_window": "2m", "short_window": "1m", "burn_rate": 10}]}}
      ]}""";

  @TempDir
  Path tmp;

  volatile double errorRatio;
  volatile double slowRatio;

  @Test
  void anOutagePagesOnceThroughAlertmanagerAndResolvesAfterRecovery() throws Exception {
    Vertx vertx = Vertx.vertx();
    RecordingServer saas = new RecordingServer(vertx);
    Path amConfig = alertmanagerConfig(saas);
    int amPort = Ports.free();
    Path slos = tmp.resolve("slos.json");
    Files.writeString(slos, SLOS);
    AtomicBoolean sending = new AtomicBoolean(true);
    try (AlertmanagerServer am = new AlertmanagerServer(amPort, tmp.resolve("am"), amConfig).start();
         GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("DIR", tmp.toString(), "SLOS", slos.toString(),
             "AM", am.base()));
         SdkTracerProvider tp = SdkTracerProvider.builder()
             .setResource(Resource.create(Attributes.builder().put("service.name", "checkout").build()))
             .addSpanProcessor(BatchSpanProcessor.builder(OtlpGrpcSpanExporter.builder()
                 .setEndpoint(gw.grpcEndpoint()).build()).setScheduleDelay(Duration.ofMillis(100)).build())
             .build()) {
      Thread traffic = new Thread(() -> send(tp.get("it"), sending), "checkout-traffic");
      traffic.start();
      try {
        // Healthy: nothing fires.
        Await.until("healthy calls counted (a whole minute judged)", Duration.ofSeconds(90), () -> {
          JsonArray list = api(gw, "/api/v1/slos").getJsonArray("slos");
          return !list.isEmpty() && list.getJsonObject(0).getJsonObject("events").getDouble("total") > 0;
        });
        assertThat(api(gw, "/api/v1/alerts").getJsonArray("firing")).isEmpty();
        JsonObject slo = api(gw, "/api/v1/slos").getJsonArray("slos").getJsonObject(0);
        assertThat(slo.getDouble("error_budget_remaining")).isEqualTo(1.0);

        // Alertmanager goes down, then the outage starts: half the calls fail, half are slow.
        am.stop();
        errorRatio = 0.5;
        slowRatio = 0.5;
        Await.until("both SLO alerts firing in the gateway", Duration.ofSeconds(120),
            () -> api(gw, "/api/v1/alerts").getJsonArray("firing").size() == 2);
        Await.until("the alerts waiting in the outbox", Duration.ofSeconds(10),
            () -> api(gw, "/api/v1/alerts").getJsonObject("outbox").getInteger(am.base()) >= 2);
        // The error signal flaps while Alertmanager is away and after it returns.
        for (int i = 0; i < 6; i++) {
          errorRatio = i % 2 == 0 ? 0 : 0.5;
          Thread.sleep(3_000);
          if (i == 2) {
            am.start();
          }
        }
        errorRatio = 0.5;
        Await.until("the PagerDuty trigger", Duration.ofSeconds(60),
            () -> events(saas, "trigger").size() >= 1);
        Await.until("the Slack ticket", Duration.ofSeconds(30), () -> !saas.received("/slack").isEmpty());
        JsonObject trigger = events(saas, "trigger").get(0);
        assertThat(trigger.getString("routing_key")).isEqualTo("test-routing-key-0123456789abcdef");
        assertThat(trigger.getJsonObject("payload").getString("summary")).isEqualTo(
            "checkout: SLO checkout-availability (99% over 1d) is burning its error budget too fast (page)");
        JsonObject details = trigger.getJsonObject("payload").getJsonObject("custom_details");
        assertThat(details.getString("slo")).isEqualTo("checkout-availability");
        assertThat(details.getString("tenant")).isEqualTo("shop");
        assertThat(details.getString("runbook_url")).isEqualTo("https://runbooks.example/checkout-availability");
        assertThat(trigger.getJsonArray("links").encode()).contains("https://grafana.example/d/slo?"
            + "var-slo=checkout-availability");
        JsonObject slack = saas.received("/slack").get(0).body();
        assertThat(slack.getString("channel")).isEqualTo("#slo-tickets");
        assertThat(slack.encode()).contains("[TICKET] checkout: checkout-latency").contains("burning its error budget");

        // Recovery: both resolve, PagerDuty hears of it once.
        errorRatio = 0;
        slowRatio = 0;
        Await.until("the PagerDuty resolve", Duration.ofSeconds(300), () -> !events(saas, "resolve").isEmpty());
        try {
          Await.until("the Slack resolution", Duration.ofSeconds(180), () -> saas.received("/slack").stream()
              .anyMatch(r -> r.body().encode().contains("[RESOLVED]")));
        } catch (AssertionError e) {
          System.out.println("gateway alerts: " + api(gw, "/api/v1/alerts").encodePrettily());
          System.out.println("gateway slos: " + api(gw, "/api/v1/slos").encodePrettily());
          saas.received("/slack").forEach(r -> System.out.println("slack: " + r.body().encode()));
          System.out.println("alertmanager log:\n" + am.log());
          throw e;
        }
        assertThat(events(saas, "trigger")).as("one page, though the signal flapped and Alertmanager was away")
            .hasSize(1);
        assertThat(events(saas, "resolve")).hasSize(1);
        assertThat(events(saas, "resolve").get(0).getString("dedup_key")).isEqualTo(trigger.getString("dedup_key"));
        assertThat(api(gw, "/api/v1/alerts").getJsonArray("firing")).isEmpty();
        List<String> history = Files.readAllLines(tmp.resolve("alerts.jsonl"));
        assertThat(history).hasSize(4); // two alerts, each firing then resolved
        assertThat(history.stream().filter(l -> l.contains("\"state\":\"resolved\""))).hasSize(2);
        assertThat(gw.registry.find("gateway.slo.error_budget.remaining").tag("slo", "checkout-availability")
            .gauge().value()).isLessThan(1.0);
      } finally {
        sending.set(false);
        traffic.join(10_000);
      }
    } finally {
      saas.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** The shipped Alertmanager config is valid for Alertmanager 0.25 (amtool, from the same Debian package). */
  @Test
  void shippedAlertmanagerConfigPassesAmtool() throws Exception {
    Path config = Path.of(System.getProperty("gateway.repo.root", ".."), "deploy/alertmanager/alertmanager.yml");
    String out = dev.telemetry.gateway.testing.Processes.run(AlertmanagerServer.binary("amtool").toString(),
        "check-config", config.toString());
    assertThat(out).contains("SUCCESS").contains("1 inhibit rules").contains("2 receivers");
  }

  /** PagerDuty events with this event_action. */
  static List<JsonObject> events(RecordingServer saas, String action) {
    return saas.received("/pagerduty").stream().map(RecordingServer.Request::body)
        .filter(b -> action.equals(b.getString("event_action"))).toList();
  }

  Path alertmanagerConfig(RecordingServer saas) throws Exception {
    return alertmanagerConfig(saas, tmp);
  }

  /** The shipped Alertmanager config with its SaaS endpoints and secrets pointed at the recording server. */
  static Path alertmanagerConfig(RecordingServer saas, Path tmp) throws Exception {
    String text = Files.readString(Path.of(System.getProperty("gateway.repo.root", ".."),
        "deploy/alertmanager/alertmanager.yml"));
    Path key = tmp.resolve("pagerduty-routing-key");
    Files.writeString(key, "test-routing-key-0123456789abcdef");
    Path webhook = tmp.resolve("slack-webhook-url");
    Files.writeString(webhook, saas.url("/slack"));
    Map<String, String> replace = Map.of(
        "pagerduty_url: https://events.pagerduty.com/v2/enqueue", "pagerduty_url: " + saas.url("/pagerduty"),
        "/etc/alertmanager/secrets/pagerduty-routing-key", key.toString(),
        "/etc/alertmanager/secrets/slack-webhook-url", webhook.toString(),
        "group_wait: 30s", "group_wait: 1s",
        "group_interval: 5m", "group_interval: 2s");
    for (Map.Entry<String, String> r : replace.entrySet()) {
      assertThat(text).as("the shipped config has " + r.getKey()).contains(r.getKey());
      text = text.replace(r.getKey(), r.getValue());
    }
    Path out = tmp.resolve("alertmanager.yml");
    Files.writeString(out, text);
    return out;
  }

  /** About 40 checkout calls a second, failing and slow at the current ratios, until told to stop. */
  void send(Tracer tracer, AtomicBoolean sending) {
    Random random = new Random(3);
    while (sending.get()) {
      Instant start = Instant.now();
      boolean error = random.nextDouble() < errorRatio;
      boolean slow = random.nextDouble() < slowRatio;
      Span s = tracer.spanBuilder("POST /checkout").setSpanKind(SpanKind.SERVER).setStartTimestamp(start)
          .setAttribute("http.route", "/checkout").startSpan();
      if (error) {
        s.setStatus(StatusCode.ERROR);
      }
      s.end(start.plusMillis(slow ? 900 : 30));
      try {
        Thread.sleep(25);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  JsonObject api(GatewayHarness gw, String path) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(
          "http://127.0.0.1:" + gw.adminPort + path)).header("Authorization", "Bearer " + TOKEN).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      return new JsonObject(r.body());
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }
}
