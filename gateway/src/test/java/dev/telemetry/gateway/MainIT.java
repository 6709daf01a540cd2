package dev.telemetry.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Http;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.SdkTelemetry;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shaded jar run as operators run it: exit codes, config errors, the default config, graceful SIGTERM. */
class MainIT {
  static final Path ROOT = Path.of(System.getProperty("gateway.repo.root", ".."));
  static final Path JAR = Path.of(System.getProperty("gateway.jar", "target/telemetry-gateway.jar"));

  @TempDir
  Path tmp;

  Process run(Map<String, String> env, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", JAR.toAbsolutePath().toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(ROOT.toFile())
        .redirectOutput(tmp.resolve("stdout.txt").toFile()).redirectError(tmp.resolve("stderr.txt").toFile());
    pb.environment().putAll(env);
    return pb.start();
  }

  String stderr() throws IOException {
    return Files.readString(tmp.resolve("stderr.txt"));
  }

  @Test
  void invalidConfigExitsWithCode2BeforeBindingAnything() throws Exception {
    int port = Ports.free();
    Path config = tmp.resolve("bad.json");
    Files.writeString(config, """
        {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:%d"}, "http": false}},
         "exporters": {"jaeger": {"type": "otlp", "endpoint": "localhost"}},
         "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["jaeger"]}}}""".formatted(port));
    Process p = run(Map.of(), "--config", config.toString());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(2);
    assertThat(stderr()).contains("invalid configuration in " + config)
        .contains("  exporters.jaeger.endpoint: not a URL: \"localhost\"")
        .doesNotContain("listening");
  }

  @Test
  void checkValidatesTheDefaultConfig() throws Exception {
    Process p = run(Map.of(), "--check", "--config", "config/gateway.json");
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isZero();
    assertThat(Files.readString(tmp.resolve("stdout.txt"))).contains("configuration OK");
  }

  @Test
  void portInUseExitsWithCode1() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Process p = run(Map.of(
          "GATEWAY_OTLP_GRPC_ENDPOINT", "127.0.0.1:" + taken.getLocalPort(),
          "GATEWAY_OTLP_HTTP_ENDPOINT", "127.0.0.1:" + Ports.free(),
          "GATEWAY_ADMIN_ENDPOINT", "127.0.0.1:" + Ports.free(),
          "GATEWAY_DATA_DIR", tmp.toString()), "--config", "config/gateway.json");
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).isEqualTo(1);
      assertThat(stderr()).contains("gateway failed to start");
    }
  }

  @Test
  void defaultConfigServesAndDrainsOnSigterm() throws Exception {
    int grpc = Ports.free();
    int http = Ports.free();
    int admin = Ports.free();
    Process p = run(Map.of(
        "GATEWAY_OTLP_GRPC_ENDPOINT", "127.0.0.1:" + grpc,
        "GATEWAY_OTLP_HTTP_ENDPOINT", "127.0.0.1:" + http,
        "GATEWAY_ADMIN_ENDPOINT", "127.0.0.1:" + admin,
        "GATEWAY_DATA_DIR", tmp.toString()), "--config", "config/gateway.json");
    try {
      HttpClient client = HttpClient.newHttpClient();
      Await.until("ready", Duration.ofSeconds(60), () -> Http.status(client, "http://127.0.0.1:" + admin + "/health/ready")
          == 200);
      try (OtlpGrpcSpanExporter exporter = OtlpGrpcSpanExporter.builder()
          .setEndpoint("http://127.0.0.1:" + grpc).build()) {
        assertThat(exporter.export(SdkTelemetry.spans("main-it", 5)).join(15, TimeUnit.SECONDS).isSuccess()).isTrue();
      }
      HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + "/v1/logs"))
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":["
              + "{\"body\":{\"stringValue\":\"hello from MainIT\"}}]}]}]}")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
    } finally {
      p.destroy(); // SIGTERM: the shutdown hook drains the queues
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(p.exitValue()).isEqualTo(143);
    Path export = tmp.resolve("export");
    assertThat(Files.readString(export.resolve("traces.jsonl"))).contains("main-it");
    assertThat(Files.readString(export.resolve("logs.jsonl"))).contains("hello from MainIT");
    List<String> logLines = Files.readAllLines(tmp.resolve("stderr.txt"));
    assertThat(logLines).isNotEmpty().allSatisfy(line -> assertThat(new JsonObject(line).getString("level")).isNotNull());
    assertThat(String.join("\n", logLines)).contains("gateway ready").contains("gateway stopped");
  }

  @Test
  void routingTableIsCheckedAtStartAndReloadedOnSighup() throws Exception {
    int admin = Ports.free();
    Path routes = tmp.resolve("routes.json");
    Path config = tmp.resolve("gateway.json");
    Files.writeString(config, """
        {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:%d"},
                                "http": {"endpoint": "127.0.0.1:%d"}}},
         "exporters": {"file": {"type": "file", "directory": "%s"}},
         "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["file"]}},
         "routing": {"file": "%s", "watch_interval": "0s"},
         "admin": {"endpoint": "127.0.0.1:%d", "token": "main-it-token-0123456789"}}"""
        .formatted(Ports.free(), Ports.free(), tmp.resolve("out"), routes, admin));
    Files.writeString(routes, "{\"rules\": [{\"id\": \"x\", \"match\": {\"signal\": \"traces\"}, \"drop\": true}]}");
    Process bad = run(Map.of(), "--config", config.toString());
    assertThat(bad.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(bad.exitValue()).isEqualTo(2);
    assertThat(stderr()).contains("invalid routing table in " + routes)
        .contains("  rules[0].match: can match no signal that has a pipeline (pipelines: logs)");

    Files.writeString(routes, "{\"rules\": [{\"id\": \"v1\", \"match\": {\"severity\": \"DEBUG\"}, \"drop\": true}]}");
    Process p = run(Map.of(), "--config", config.toString());
    try {
      HttpClient client = HttpClient.newHttpClient();
      String api = "http://127.0.0.1:" + admin + "/api/v1/routes";
      Await.until("ready", Duration.ofSeconds(60), () -> Http.status(client, "http://127.0.0.1:" + admin + "/health/ready")
          == 200);
      Files.writeString(routes, "{\"rules\": [{\"id\": \"v2\", \"match\": {\"severity\": \"TRACE\"}, \"drop\": true}]}");
      Process hup = new ProcessBuilder("sh", "-c", "kill -HUP " + p.pid()).start(); // the shell builtin: no procps needed
      assertThat(hup.waitFor(10, TimeUnit.SECONDS)).isTrue();
      Await.until("version 2 after SIGHUP", Duration.ofSeconds(20), () -> {
        try {
          HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(api))
              .header("Authorization", "Bearer main-it-token-0123456789").build(), HttpResponse.BodyHandlers.ofString());
          return r.statusCode() == 200 && new JsonObject(r.body()).getInteger("version") == 2;
        } catch (Exception e) {
          return false;
        }
      });
    } finally {
      p.destroy();
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(stderr()).contains("routing table version 2 applied (source: sighup " + routes
        + "): added [v2]; removed [v1] (1 rules)");
  }

}
