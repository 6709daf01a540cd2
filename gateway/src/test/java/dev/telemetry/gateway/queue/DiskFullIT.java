package dev.telemetry.gateway.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A persistent queue on a full disk: the queue directory is a 3 MiB tmpfs this test mounts (CI runs as root), far
 * smaller than the queue's own bound, and the backend is down. Clients are told to retry (503 + Retry-After, never a
 * 500), nothing is corrupted, everything acknowledged is delivered once the backend returns and the drained log frees
 * the space — after which the gateway accepts again — and a restart on the same directory finds a clean log.
 */
class DiskFullIT {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "exporters": {"backend": {"type": "otlp", "endpoint": "http://127.0.0.1:{{SINK}}", "timeout": "300ms",
          "compression": "none",
          "queue": {"type": "persistent", "directory": "{{QUEUE}}", "max_bytes": "64MiB",
                    "segment_bytes": "256KiB", "fsync": "always"},
          "batch": {"max_items": 100, "timeout": "5ms"},
          "retry": {"initial_interval": "20ms", "max_interval": "200ms", "max_elapsed_time": "60s"}}},
        "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["backend"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "error"},
        "shutdown_timeout": "2s"
      }""";

  @TempDir
  Path tmp;
  Path queue;
  Vertx vertx;
  final int sinkPort = Ports.free();
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  final Set<String> acked = new LinkedHashSet<>();
  final Map<Integer, Integer> statuses = new TreeMap<>();
  int seq;

  @BeforeEach
  void mount() throws Exception {
    assertThat(new ProcessBuilder("id", "-u").start().inputReader().readLine().trim())
        .as("DiskFullIT mounts a small tmpfs and must run as root (as CI does)").isEqualTo("0");
    queue = Files.createDirectories(tmp.resolve("queue"));
    run("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", queue.toString());
    vertx = Vertx.vertx();
  }

  @AfterEach
  void unmount() throws Exception {
    vertx.close().await(10, TimeUnit.SECONDS);
    run("umount", queue.toString());
  }

  static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
  }

  GatewayHarness gateway() throws Exception {
    return GatewayHarness.start(CONFIG, Map.of("SINK", Integer.toString(sinkPort), "QUEUE", queue.toString()));
  }

  /** One request of 10 records of ~2 KiB each; remembers the records acknowledged. */
  int send(GatewayHarness gw) throws Exception {
    ScopeLogs.Builder sl = ScopeLogs.newBuilder();
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 10; i++) {
      String id = "rec-" + (++seq);
      ids.add(id);
      sl.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(1)
          .setBody(AnyValue.newBuilder().setStringValue(id + " " + "x".repeat(2000))));
    }
    HttpResponse<Void> resp = http.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/logs"))
        .header("Content-Type", "application/x-protobuf").timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofByteArray(ExportLogsServiceRequest.newBuilder()
            .addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(sl)).build().toByteArray())).build(),
        HttpResponse.BodyHandlers.discarding());
    statuses.merge(resp.statusCode(), 1, Integer::sum);
    if (resp.statusCode() == 200) {
      acked.addAll(ids);
    } else {
      assertThat(resp.headers().firstValue("retry-after")).as("a refusal says when to retry").isPresent();
    }
    return resp.statusCode();
  }

  static Set<String> ids(OtlpSink sink) {
    Set<String> got = new HashSet<>();
    for (String body : sink.logBodies()) {
      got.add(body.substring(0, body.indexOf(' ')));
    }
    return got;
  }

  @Test
  void aFullDiskMeansRetryLaterThenEverythingAcknowledgedIsDelivered() throws Exception {
    try (GatewayHarness gw = gateway()) {
      int refused = 0;
      for (int i = 0; i < 400 && refused < 20; i++) { // 3 MiB holds ~140 such requests
        if (send(gw) != 200) {
          refused++;
        }
      }
      System.out.println("DiskFullIT: disk full after " + acked.size() + " records acknowledged; statuses "
          + statuses);
      assertThat(statuses.keySet()).as("only success or retry-later, never a 500").isSubsetOf(200, 503);
      assertThat(refused).as("the disk filled up").isEqualTo(20);
      try (OtlpSink sink = new OtlpSink(vertx, sinkPort).start()) {
        Await.until("every acknowledged record delivered", Duration.ofSeconds(60),
            () -> ids(sink).containsAll(acked));
        // Delivered records' segments are deleted: the gateway takes data again.
        Await.until("space returned and a request accepted", Duration.ofSeconds(30), () -> {
          try {
            return send(gw) == 200;
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        Await.until("the last records delivered too", Duration.ofSeconds(30), () -> ids(sink).containsAll(acked));
        long duplicates = sink.logBodies().size() - ids(sink).size();
        System.out.printf("DiskFullIT: acknowledged %d, delivered %d distinct, duplicates %d%n", acked.size(),
            ids(sink).size(), duplicates);
        assertThat(ids(sink)).containsAll(acked);
      }
    }
    try (GatewayHarness again = gateway()) {
      assertThat(again.counter("gateway.queue.torn.records")).as("a clean log after the full disk").isZero();
    }
  }
}
