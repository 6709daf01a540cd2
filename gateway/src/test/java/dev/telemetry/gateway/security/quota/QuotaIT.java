package dev.telemetry.gateway.security.quota;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Payloads;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.RawGrpc;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tenant quotas against a running gateway: a tenant over its items/s gets 429 with Retry-After over OTLP/HTTP and
 * RESOURCE_EXHAUSTED with RetryInfo over gRPC, another tenant is not affected, the tenant is served again after the
 * advertised delay, and the backend gets exactly what was acknowledged. Then an alert (as Alertmanager's webhook
 * delivers it) raises the tenant's quota ten-fold (within its cap) until it resolves.
 */
class QuotaIT {
  static final String TOKEN = "quota-it-token-0123456789abcdef";
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "exporters": {"jaeger": {"type": "otlp", "endpoint": "{{JAEGER}}", "batch": {"timeout": "5ms"}}},
        "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["jaeger"]}},
        "routing": {"file": "{{ROUTES}}", "watch_interval": "0s"},
        "quotas": {"default": {"items_per_second": 100000}, "tenants": {"acme": {"items_per_second": 25}},
                   "burst_seconds": 4},
        "remediations": {"actions": [{"name": "raise-tenant-quota",
          "when": {"alertname": "TenantQuotaPressure"},
          "tenant_quota": {"tenant_label": "tenant", "factor": 10, "max_items_per_second": 2000}}]},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}", "token": "%s"},
        "logging": {"level": "warn"}
      }""".formatted(TOKEN);

  @TempDir
  Path tmp;
  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void aTenantOverItsQuotaIsToldWhenToRetryOthersAreServedAndAnAlertRaisesItWithinTheCap() throws Exception {
    Vertx vertx = Vertx.vertx();
    OtlpSink jaeger = new OtlpSink(vertx, Ports.free()).start();
    Path routes = tmp.resolve("routes.json");
    Files.writeString(routes, """
        {"tenant": {"header": "X-Scope-OrgID", "default": "shared"}, "rules": []}""");
    try (GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("JAEGER", jaeger.endpoint(),
        "ROUTES", routes.toString()));
         RawGrpc grpc = new RawGrpc(vertx, gw.grpcPort)) {
      int accepted = 0;
      // acme: 25 items/s with a four-second burst. Two requests of 50 fit; the third does not, and would not
      // for two seconds (so a slow machine cannot make this pass or fail by timing).
      assertThat(post(gw, "acme", 50).statusCode()).isEqualTo(200);
      assertThat(post(gw, "acme", 50).statusCode()).isEqualTo(200);
      accepted += 100;
      HttpResponse<byte[]> refused = post(gw, "acme", 50);
      assertThat(refused.statusCode()).isEqualTo(429);
      assertThat(refused.headers().firstValue("Retry-After")).hasValue("2");
      Status status = Status.parseFrom(refused.body());
      assertThat(status.getMessage()).startsWith("tenant \"acme\" is over its quota (25 items/s); retry in ");
      // Over gRPC: RESOURCE_EXHAUSTED, and RetryInfo says when.
      RawGrpc.Result g = grpc.export(Signal.TRACES, Buffer.buffer(Payloads.traces("svc", 50).toByteArray()),
          "identity", Map.of("x-scope-orgid", "acme"));
      assertThat(g.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
      String bin = g.trailers().get("grpc-status-details-bin");
      if (bin == null) {
        bin = g.headers().get("grpc-status-details-bin"); // a trailers-only response
      }
      Status details = Status.parseFrom(Base64.getDecoder().decode(bin));
      assertThat(details.getMessage()).contains("tenant \"acme\" is over its quota");
      com.google.protobuf.Duration delay = details.getDetails(0).unpack(RetryInfo.class).getRetryDelay();
      // The quota's own wait: up to two seconds (50 items at 25/s), more than the receiver's retry_after (1 s).
      assertThat(delay.getSeconds() * 1000 + delay.getNanos() / 1_000_000).isBetween(1500L, 2000L);
      // Another tenant, and the default one, are served.
      for (int i = 0; i < 5; i++) {
        assertThat(post(gw, "beta", 50).statusCode()).isEqualTo(200);
        accepted += 50;
      }
      assertThat(post(gw, null, 50).statusCode()).isEqualTo(200);
      accepted += 50;
      // After the advertised delay acme is served again.
      Thread.sleep(2_000);
      assertThat(post(gw, "acme", 50).statusCode()).isEqualTo(200);
      accepted += 50;
      int expected = accepted;
      Await.until("the backend has every acknowledged span", Duration.ofSeconds(10),
          () -> jaeger.items(Signal.TRACES) == expected);
      assertThat(gw.counter("gateway.tenant.items", "tenant", "acme", "result", "refused")).isEqualTo(100);
      assertThat(gw.counter("gateway.tenant.items", "tenant", "beta", "result", "admitted")).isEqualTo(250);

      // An alert raises acme's quota ten-fold (within its cap of 2000/s) until it resolves.
      JsonObject alert = new JsonObject().put("version", "4").put("status", "firing").put("alerts", new JsonArray()
          .add(new JsonObject().put("status", "firing").put("labels", new JsonObject()
              .put("alertname", "TenantQuotaPressure").put("tenant", "acme"))));
      assertThat(webhook(gw, alert).statusCode()).isEqualTo(200);
      Await.until("the quota raised", Duration.ofSeconds(10),
          () -> gw.gauge("gateway.tenant.quota.items.rate", "tenant", "acme") == 250);
      Thread.sleep(2_500); // the bucket fills at the new rate (and holds four seconds of it)
      for (int i = 0; i < 10; i++) {
        assertThat(post(gw, "acme", 50).statusCode()).as("request %d at the raised quota", i).isEqualTo(200);
      }
      alert.getJsonArray("alerts").getJsonObject(0).put("status", "resolved");
      assertThat(webhook(gw, alert).statusCode()).isEqualTo(200);
      Await.until("the quota restored", Duration.ofSeconds(10),
          () -> gw.gauge("gateway.tenant.quota.items.rate", "tenant", "acme") == 25);
      // A body that is not Alertmanager's is the caller's mistake.
      HttpResponse<byte[]> bad = webhook(gw, new JsonObject().put("alerts", "nope"));
      assertThat(bad.statusCode()).isEqualTo(400);
    } finally {
      jaeger.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  HttpResponse<byte[]> post(GatewayHarness gw, String tenant, int spans) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/traces"))
        .header("Content-Type", "application/x-protobuf")
        .POST(HttpRequest.BodyPublishers.ofByteArray(Payloads.traces("svc", spans).toByteArray()));
    if (tenant != null) {
      b.header("X-Scope-OrgID", tenant);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  HttpResponse<byte[]> webhook(GatewayHarness gw, JsonObject body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.adminPort
        + "/api/v1/remediations/alertmanager")).header("Authorization", "Bearer " + TOKEN)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.encode())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }
}
