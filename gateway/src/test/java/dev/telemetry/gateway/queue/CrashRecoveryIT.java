package dev.telemetry.gateway.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Http;
import dev.telemetry.gateway.testing.Ports;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped jar with a persistent queue is killed with SIGKILL while clients send and the backend fails every
 * third call; restarted as a new process, it delivers every record it had acknowledged. Duplicates (records sent just
 * before the crash, or acknowledged by the backend after the last checkpoint) are counted and must stay within the
 * documented bound.
 */
class CrashRecoveryIT {
  static final Path ROOT = Path.of(System.getProperty("gateway.repo.root", ".."));
  static final Path JAR = Path.of(System.getProperty("gateway.jar", "target/telemetry-gateway.jar"));
  static final int RECORDS_PER_REQUEST = 10;
  static final int BATCH_ITEMS = 100;
  static final int CONCURRENCY = 2;

  @TempDir
  Path tmp;

  record Ports3(int grpc, int http, int admin) {
  }

  Process start(Ports3 ports, int sinkPort, String name) throws IOException {
    Path config = tmp.resolve(name + ".json");
    Files.writeString(config, """
        {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:%d"},
                                "http": {"endpoint": "127.0.0.1:%d"}}},
         "exporters": {"backend": {"type": "otlp", "endpoint": "http://127.0.0.1:%d", "compression": "none",
           "queue": {"type": "persistent", "directory": "%s", "concurrency": %d, "fsync": "interval",
                     "fsync_interval": "100ms", "segment_bytes": "256KiB"},
           "batch": {"max_items": %d, "timeout": "5ms"},
           "retry": {"initial_interval": "20ms", "max_interval": "100ms", "max_elapsed_time": "10m"}}},
         "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["backend"]}},
         "admin": {"endpoint": "127.0.0.1:%d"}}"""
        .formatted(ports.grpc(), ports.http(), sinkPort, tmp.resolve("queue"), CONCURRENCY, BATCH_ITEMS,
            ports.admin()));
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
        JAR.toAbsolutePath().toString(), "--config", config.toString());
    return new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true)
        .redirectOutput(tmp.resolve(name + ".log").toFile()).start();
  }


  static double metric(HttpClient client, int adminPort, String name) {
    return Http.metric(client, adminPort, name);
  }

  @Test
  void everyAcknowledgedRecordSurvivesSigkill() throws Exception {
    Vertx vertx = Vertx.vertx();
    // HTTP/1.1 and timeouts: a request must never hang the test (the JDK client's h2c upgrade can stall).
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5)).build();
    try (OtlpSink sink = new OtlpSink(vertx, Ports.free()).start()) {
      // The backend fails every third call, so at the crash some data is delivered, some waits, some is retrying.
      sink.script(n -> n % 3 == 0 ? OtlpSink.Reply.status(GrpcStatus.UNAVAILABLE) : OtlpSink.Reply.OK);
      Ports3 first = new Ports3(Ports.free(), Ports.free(), Ports.free());
      Process gateway = start(first, sink.port(), "first");
      Await.until("first gateway ready", Duration.ofSeconds(60),
          () -> Http.status(client, "http://127.0.0.1:" + first.admin() + "/health/ready") == 200);

      Set<String> acked = ConcurrentHashMap.newKeySet();
      AtomicInteger sent = new AtomicInteger();
      AtomicInteger seq = new AtomicInteger();
      AtomicBoolean go = new AtomicBoolean(true);
      List<Thread> senders = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        Thread th = new Thread(() -> {
          while (go.get() && seq.get() < 200_000) {
            ExportLogsServiceRequest.Builder req = ExportLogsServiceRequest.newBuilder();
            ScopeLogs.Builder sl = ScopeLogs.newBuilder();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < RECORDS_PER_REQUEST; i++) {
              String id = "rec-" + seq.incrementAndGet();
              ids.add(id);
              sl.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(1)
                  .setBody(AnyValue.newBuilder().setStringValue(id)));
            }
            req.addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(sl));
            sent.addAndGet(ids.size());
            try {
              HttpResponse<Void> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + first.http()
                  + "/v1/logs")).timeout(Duration.ofSeconds(10)).header("Content-Type", "application/x-protobuf")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(req.build().toByteArray())).build(),
                  HttpResponse.BodyHandlers.discarding());
              if (r.statusCode() == 200) {
                acked.addAll(ids);
              }
            } catch (Exception e) {
              // the gateway died mid-request: not acknowledged
            }
          }
        });
        th.start();
        senders.add(th);
      }
      Await.until("some records acknowledged", Duration.ofSeconds(30), () -> acked.size() > 3000);
      gateway.destroyForcibly(); // SIGKILL
      assertThat(gateway.waitFor(30, TimeUnit.SECONDS)).isTrue();
      go.set(false);
      for (Thread th : senders) {
        th.join();
      }
      int deliveredBeforeCrash = sink.logBodies().size();

      sink.script(n -> OtlpSink.Reply.OK);
      Ports3 second = new Ports3(Ports.free(), Ports.free(), Ports.free());
      Process restarted = start(second, sink.port(), "second");
      try {
        Await.until(() -> "every acknowledged record delivered after the restart ("
            + acked.stream().filter(Set.copyOf(sink.logBodies())::contains).count() + " of " + acked.size() + ")",
            Duration.ofSeconds(60), () -> Set.copyOf(sink.logBodies()).containsAll(acked));
        List<String> delivered = sink.logBodies();
        Map<String, Integer> counts = new HashMap<>();
        delivered.forEach(b -> counts.merge(b, 1, Integer::sum));
        long duplicates = delivered.size() - counts.size();
        double recovered = metric(client, second.admin(), "gateway_queue_recovered_items_total");
        double torn = metric(client, second.admin(), "gateway_queue_torn_records_total");
        System.out.printf("crash recovery: sent %d, acknowledged %d, delivered before the crash %d, replayed %.0f, "
                + "delivered in all %d (%d distinct), duplicates %d, torn records %.0f%n", sent.get(), acked.size(),
            deliveredBeforeCrash, recovered, delivered.size(), counts.size(), duplicates, torn);
        assertThat(recovered).isPositive();
        // Duplicates: at most what was in flight (concurrency × batch) plus what the backend took after the last
        // checkpoint (checkpoints are at most 50 ms apart; a generous bound of 20 batches covers both here).
        assertThat(duplicates).isLessThanOrEqualTo((long) (CONCURRENCY + 20) * BATCH_ITEMS);
        assertThat(duplicates).isLessThanOrEqualTo((long) recovered);
        assertThat(torn).isLessThanOrEqualTo(1);
      } finally {
        restarted.destroy();
        restarted.waitFor(60, TimeUnit.SECONDS);
      }
    } finally {
      vertx.close().await();
    }
  }
}
