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
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backend faults as the Collector's testbed injects them, against a persistent queue fed by four concurrent
 * clients, with a ledger of acknowledged records: 70 % of export calls answered UNAVAILABLE → every acknowledged
 * record delivered; a mix of retryable and permanent errors → delivered + dead-lettered = acknowledged exactly,
 * every permanent failure in the dead-letter file and none delivered. Call outcomes are seeded per call number.
 */
class BackendFaultsIT {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "exporters": {"backend": {"type": "otlp", "endpoint": "http://127.0.0.1:{{SINK}}", "timeout": "1s",
          "compression": "none",
          "queue": {"type": "persistent", "directory": "{{QUEUE}}", "dead_letter_file": "{{DLQ}}"},
          "batch": {"max_items": 50, "timeout": "5ms"},
          "retry": {"initial_interval": "5ms", "max_interval": "50ms", "max_elapsed_time": "120s"}}},
        "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["backend"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "error"},
        "shutdown_timeout": "2s"
      }""";
  static final int CLIENTS = 4;
  static final int REQUESTS_PER_CLIENT = 50;

  @TempDir
  Path tmp;
  Vertx vertx;
  final int sinkPort = Ports.free();
  final Set<String> acked = ConcurrentHashMap.newKeySet();
  final AtomicInteger sent = new AtomicInteger();
  final AtomicInteger refusedRequests = new AtomicInteger();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  GatewayHarness gateway() throws Exception {
    return GatewayHarness.start(CONFIG, Map.of("SINK", Integer.toString(sinkPort),
        "QUEUE", tmp.resolve("queue").toString(), "DLQ", tmp.resolve("dlq.jsonl").toString()));
  }

  /** Four clients, each sending its requests of 10 records; a refused request is retried by its client. */
  void load(GatewayHarness gw) throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    try {
      List<Future<?>> all = new ArrayList<>();
      for (int c = 0; c < CLIENTS; c++) {
        int client = c;
        all.add(clients.submit(() -> {
          for (int r = 0; r < REQUESTS_PER_CLIENT; r++) {
            ScopeLogs.Builder sl = ScopeLogs.newBuilder();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
              String id = "c" + client + "-r" + r + "-" + i;
              ids.add(id);
              sl.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(1)
                  .setBody(AnyValue.newBuilder().setStringValue(id)));
            }
            byte[] body = ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
                .addScopeLogs(sl)).build().toByteArray();
            sent.addAndGet(ids.size());
            while (true) {
              HttpResponse<Void> resp = http.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/logs"))
                  .header("Content-Type", "application/x-protobuf").timeout(Duration.ofSeconds(30))
                  .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                  HttpResponse.BodyHandlers.discarding());
              if (resp.statusCode() == 200) {
                acked.addAll(ids);
                break;
              }
              assertThat(resp.statusCode()).isIn(429, 503);
              refusedRequests.incrementAndGet();
              Thread.sleep(50);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : all) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      clients.shutdownNow();
    }
  }

  /** A well-mixed draw per (seed, call): java.util.Random's first draws for nearby seeds are nearly equal. */
  static double draw(long seed, int call) {
    return new java.util.SplittableRandom(seed * 0x9E3779B97F4A7C15L + call).nextDouble();
  }

  static boolean failing(long seed, int call, double share) {
    return draw(seed, call) < share;
  }

  @Test
  void seventyPercentUnavailableLosesNothing() throws Exception {
    try (OtlpSink sink = new OtlpSink(vertx, sinkPort).start(); GatewayHarness gw = gateway()) {
      sink.script(n -> failing(7, n, 0.7) ? OtlpSink.Reply.status(GrpcStatus.UNAVAILABLE) : OtlpSink.Reply.OK);
      load(gw);
      Await.until("every acknowledged record delivered", Duration.ofSeconds(120),
          () -> new HashSet<>(sink.logBodies()).containsAll(acked));
      long duplicates = sink.logBodies().size() - new HashSet<>(sink.logBodies()).size();
      System.out.printf("BackendFaultsIT 70%% UNAVAILABLE: sent %d, acknowledged %d, delivered %d distinct, "
          + "duplicates %d, lost 0, calls %d, retried requests by clients %d%n", sent.get(), acked.size(),
          new HashSet<>(sink.logBodies()).size(), duplicates, sink.calls(), refusedRequests.get());
      assertThat(acked).hasSize(CLIENTS * REQUESTS_PER_CLIENT * 10);
      assertThat(duplicates).isZero(); // an UNAVAILABLE answer means the backend kept nothing
      assertThat(gw.counter("gateway.exporter.retries")).isPositive();
    }
  }

  @Test
  void permanentErrorsAreDeadLetteredAndEverythingElseDelivered() throws Exception {
    try (OtlpSink sink = new OtlpSink(vertx, sinkPort).start(); GatewayHarness gw = gateway()) {
      sink.script(n -> {
        double x = draw(11, n);
        return x < 0.15 ? OtlpSink.Reply.status(GrpcStatus.INVALID_ARGUMENT)
            : x < 0.45 ? OtlpSink.Reply.status(GrpcStatus.UNAVAILABLE) : OtlpSink.Reply.OK;
      });
      load(gw);
      Path dlq = tmp.resolve("dlq.jsonl");
      Await.until("every acknowledged record delivered or dead-lettered", Duration.ofSeconds(120), () -> {
        Set<String> done = new HashSet<>(sink.logBodies());
        done.addAll(deadLettered(dlq));
        return done.containsAll(acked);
      });
      Set<String> delivered = new HashSet<>(sink.logBodies());
      Set<String> dead = deadLettered(dlq);
      Set<String> both = new HashSet<>(delivered);
      both.retainAll(dead);
      System.out.printf("BackendFaultsIT 15%% permanent + 30%% UNAVAILABLE: sent %d, acknowledged %d, delivered %d, "
          + "dead-lettered %d, both %d, lost 0%n", sent.get(), acked.size(), delivered.size(), dead.size(),
          both.size());
      assertThat(both).as("a record is either delivered or dead-lettered").isEmpty();
      assertThat(delivered.size() + dead.size()).as("sent - permanent == delivered").isEqualTo(acked.size());
      assertThat(dead).isNotEmpty();
      assertThat(gw.counter("gateway.exporter.items.failed", "reason", "permanent")).isEqualTo(dead.size());
    }
  }

  static Set<String> deadLettered(Path dlq) {
    Set<String> dead = new HashSet<>();
    if (!Files.exists(dlq)) {
      return dead;
    }
    try {
      for (String l : Files.readAllLines(dlq)) {
        if (l.isBlank()) {
          continue;
        }
        JsonObject o = new JsonObject(l);
        o.getJsonObject("request").getJsonArray("resourceLogs").forEach(rl -> ((JsonObject) rl)
            .getJsonArray("scopeLogs").forEach(sl -> ((JsonObject) sl).getJsonArray("logRecords").forEach(lr ->
                dead.add(((JsonObject) lr).getJsonObject("body").getString("stringValue")))));
      }
    } catch (Exception partlyWritten) {
      return new HashSet<>(); // the file is being appended to: read again later
    }
    return dead;
  }
}
