package dev.telemetry.gateway.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Http;
import dev.telemetry.gateway.testing.Ports;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The jar with a 128 MiB heap, queues configured far beyond it (1 GiB) and the backend down: under a flood of
 * 1 MiB requests the memory limit (the heap ledger, or the guard on heap in use) turns clients away with 429 before
 * the heap runs out, and the process stays up.
 */
class MemoryLimitIT {
  static final Path ROOT = Path.of(System.getProperty("gateway.repo.root", ".."));
  static final Path JAR = Path.of(System.getProperty("gateway.jar", "target/telemetry-gateway.jar"));

  @TempDir
  Path tmp;

  @Test
  void theHeapGuardRefusesBeforeTheHeapRunsOut() throws Exception {
    int http = Ports.free();
    int admin = Ports.free();
    Path config = tmp.resolve("gateway.json");
    Files.writeString(config, """
        {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:%d"},
                                "http": {"endpoint": "127.0.0.1:%d"}, "max_request_bytes": "4MiB"}},
         "exporters": {"backend": {"type": "otlp", "endpoint": "http://127.0.0.1:%d",
           "queue": {"max_items": 10000000, "max_bytes": "1GiB"},
           "retry": {"initial_interval": "1s", "max_elapsed_time": "10m"}}},
         "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["backend"]}},
         "memory_limit": {"max_heap_percent": 70, "check_interval": "20ms"},
         "admin": {"endpoint": "127.0.0.1:%d"}, "shutdown_timeout": "1s"}"""
        .formatted(Ports.free(), http, Ports.free(), admin));
    Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-jar", JAR.toAbsolutePath().toString(), "--config", config.toString()))
        .directory(ROOT.toFile()).redirectErrorStream(true).redirectOutput(tmp.resolve("log.txt").toFile()).start();
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    try {
      Await.until("ready", Duration.ofSeconds(60), () -> Http.status(client, "http://127.0.0.1:" + admin
          + "/health/ready") == 200);
      ScopeLogs.Builder sl = ScopeLogs.newBuilder();
      String body = "x".repeat(1000);
      for (int i = 0; i < 1000; i++) {
        sl.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(1).setBody(AnyValue.newBuilder()
            .setStringValue(body + i)));
      }
      byte[] request = ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
          .addScopeLogs(sl)).build().toByteArray(); // ~1 MiB
      Map<Integer, Integer> statuses = new HashMap<>();
      for (int i = 0; i < 400 && p.isAlive(); i++) { // 400 MiB offered to a 128 MiB heap
        int s = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + "/v1/logs"))
            .header("Content-Type", "application/x-protobuf").timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.ofByteArray(request)).build(), HttpResponse.BodyHandlers.discarding())
            .statusCode();
        statuses.merge(s, 1, Integer::sum);
      }
      System.out.println("memory limit: statuses " + statuses);
      assertThat(p.isAlive()).isTrue();
      assertThat(statuses).containsKey(429).doesNotContainKeys(500, 503);
      assertThat(Http.status(client, "http://127.0.0.1:" + admin + "/health/live")).isEqualTo(200);
      assertThat(Files.readString(tmp.resolve("log.txt"))).doesNotContain("OutOfMemoryError");
      // Refused for memory: by the heap ledger (what requests, queues and samplers hold, charged before it is
      // allocated — since the receivers count decoded objects it usually acts first) or by the guard (heap in use).
      assertThat(Http.metric(client, admin, "gateway_receiver_requests_refused_total")).isPositive();
      assertThat(Files.readString(tmp.resolve("log.txt")).contains("above the memory limit")
          || Http.metric(client, admin, "gateway_memory_charge_refusals_total") > 0).as("a memory refusal").isTrue();
    } finally {
      p.destroy();
      p.waitFor(60, TimeUnit.SECONDS);
    }
  }

}
