package dev.telemetry.gateway.console;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.Tokens;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The console's side of the admin listener, over plain HTTP: files without a token, views with one, roles. */
class ConsoleApiIT {
  static final String READ = "console-read-token-0123456789";
  static final String CHANGE = "console-change-token-0123456789";
  static final String CONFIG = """
      {"receivers": {"otlp": {"type": "otlp",
         "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
       "exporters": {"files": {"type": "file", "directory": "{{DIR}}"}},
       "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["files"]}},
       "admin": {"endpoint": "127.0.0.1:{{ADMIN}}", "samples": {{SAMPLES}},
                 "tokens": [{"name": "viewer", "sha256": "%s", "role": "read"},
                            {"name": "sre", "sha256": "%s", "role": "change"}]},
       "logging": {"level": "warn"}}""".formatted(Tokens.sha256(READ), Tokens.sha256(CHANGE));

  @TempDir
  java.nio.file.Path dir;
  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  HttpResponse<String> get(GatewayHarness gw, String path, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.adminPort + path))
        .timeout(Duration.ofSeconds(10));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void filesWithoutATokenDataWithOneSamplesOnlyForChange() throws Exception {
    try (GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("DIR", dir.toString(), "SAMPLES", "4"))) {
      HttpResponse<String> bare = get(gw, "/console", null);
      assertThat(bare.statusCode()).isEqualTo(302);
      assertThat(bare.headers().firstValue("Location")).hasValue("/console/");
      HttpResponse<String> index = get(gw, "/console/", null);
      assertThat(index.statusCode()).isEqualTo(200);
      assertThat(index.body()).contains("<script type=\"module\" src=\"js/app.js\">");
      assertThat(index.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("default-src 'self'")
          .contains("frame-ancestors 'none'").doesNotContain("unsafe-inline");
      assertThat(index.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
      HttpResponse<String> module = get(gw, "/console/js/app.js", null);
      assertThat(module.statusCode()).isEqualTo(200);
      assertThat(module.headers().firstValue("Content-Type").orElseThrow()).contains("javascript");
      assertThat(get(gw, "/console/js/nothing.js", null).statusCode()).isEqualTo(404);
      assertThat(get(gw, "/console/../api/v1/topology", null).statusCode()).isIn(400, 401, 404);

      assertThat(get(gw, "/api/v1/topology", null).statusCode()).isEqualTo(401);
      HttpResponse<String> topology = get(gw, "/api/v1/topology", READ);
      assertThat(topology.statusCode()).isEqualTo(200);
      assertThat(new JsonObject(topology.body()).getJsonArray("pipelines")).hasSize(1);

      http.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/traces"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":"
              + "\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\",\"name\":\"hello\"}]}]}]}"))
          .build(), HttpResponse.BodyHandlers.discarding());
      HttpResponse<String> denied = get(gw, "/api/v1/samples", READ);
      assertThat(denied.statusCode()).isEqualTo(403);
      assertThat(denied.body()).contains("role change");
      Await.until("the sample", Duration.ofSeconds(10), () -> {
        try {
          return new JsonObject(get(gw, "/api/v1/samples", CHANGE).body()).getJsonArray("samples").size() == 1;
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      JsonObject sample = new JsonObject(get(gw, "/api/v1/samples", CHANGE).body()).getJsonArray("samples")
          .getJsonObject(0);
      assertThat(sample.getString("signal")).isEqualTo("traces");
      assertThat(sample.getString("receiver")).isEqualTo("otlp");
      assertThat(sample.getJsonObject("payload").encode()).contains("\"name\":\"hello\"")
          .contains("5b8efff798038103d269b633813fc60c");
    }
  }

  @Test
  void noSamplesWhenTurnedOff() throws Exception {
    try (GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("DIR", dir.toString(), "SAMPLES", "0"))) {
      http.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/traces"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"resourceSpans\":[]}")).build(),
          HttpResponse.BodyHandlers.discarding());
      JsonObject view = new JsonObject(get(gw, "/api/v1/samples", CHANGE).body());
      assertThat(view.getJsonArray("samples")).isEmpty();
      assertThat(view.getString("disabled")).contains("admin.samples");
    }
  }
}
