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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault injection against the OTLP exporter behind a persistent queue: the backend down at start, dying mid-stream
 * and coming back, too slow, answering each kind of error; the disk cap reached; drop_oldest. Each scenario prints
 * what was sent, acknowledged and delivered, and checks that every acknowledged record was delivered (or, for
 * permanent errors, dead-lettered with the reason).
 */
class DeliveryIT {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "exporters": {"backend": {"type": "otlp", "endpoint": "http://127.0.0.1:{{SINK}}", "timeout": "300ms",
          "compression": "none",
          "queue": {{QUEUE}},
          "batch": {"max_items": 50, "timeout": "5ms"},
          "retry": {"initial_interval": "20ms", "max_interval": "200ms", "max_elapsed_time": "30s"}}},
        "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["backend"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "warn"},
        "shutdown_timeout": "2s"
      }""";

  @TempDir
  Path tmp;
  Vertx vertx;
  int sinkPort;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  int seq;
  int sent;
  final Set<String> acked = new LinkedHashSet<>();
  final List<Integer> statuses = new ArrayList<>();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    sinkPort = Ports.free();
  }

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  String persistent(String extra) {
    return "{\"type\": \"persistent\", \"directory\": \"" + tmp.resolve("queue") + "\", \"dead_letter_file\": \""
        + tmp.resolve("dlq.jsonl") + "\"" + extra + "}";
  }

  GatewayHarness gateway(String queue) throws Exception {
    return GatewayHarness.start(CONFIG.replace("{{QUEUE}}", queue), Map.of("SINK", Integer.toString(sinkPort)));
  }

  /** Sends {@code requests} requests of 10 records; remembers which records were acknowledged. */
  void send(GatewayHarness gw, int requests) throws Exception {
    for (int r = 0; r < requests; r++) {
      ScopeLogs.Builder sl = ScopeLogs.newBuilder();
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 10; i++) {
        String id = "rec-" + (++seq);
        ids.add(id);
        sl.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(1).setBody(AnyValue.newBuilder().setStringValue(id)));
      }
      sent += ids.size();
      HttpResponse<Void> resp = http.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/logs"))
          .header("Content-Type", "application/x-protobuf").timeout(Duration.ofSeconds(10))
          .POST(HttpRequest.BodyPublishers.ofByteArray(ExportLogsServiceRequest.newBuilder()
              .addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(sl)).build().toByteArray())).build(),
          HttpResponse.BodyHandlers.discarding());
      statuses.add(resp.statusCode());
      if (resp.statusCode() == 200) {
        acked.addAll(ids);
      }
    }
  }


  /** Waits until every acknowledged record reached the sinks, then reports and returns the duplicates. */
  long awaitAllDelivered(String scenario, OtlpSink... sinks) {
    Await.until(() -> scenario + ": acknowledged records delivered", Duration.ofSeconds(30), () -> {
      Set<String> got = new HashSet<>();
      for (OtlpSink s : sinks) {
        got.addAll(s.logBodies());
      }
      return got.containsAll(acked);
    });
    List<String> all = new ArrayList<>();
    for (OtlpSink s : sinks) {
      all.addAll(s.logBodies());
    }
    long duplicates = all.size() - new HashSet<>(all).size();
    System.out.printf("%s: sent %d, acknowledged %d, delivered %d (%d distinct), duplicates %d%n", scenario, sent,
        acked.size(), all.size(), new HashSet<>(all).size(), duplicates);
    return duplicates;
  }

  @Test
  void backendDownAtStart() throws Exception {
    try (GatewayHarness gw = gateway(persistent(""))) {
      send(gw, 20);
      assertThat(acked).hasSize(200); // queued durably even though nothing can be delivered yet
      Thread.sleep(300);
      try (OtlpSink sink = new OtlpSink(vertx, sinkPort).start()) {
        assertThat(awaitAllDelivered("backend down at start", sink)).isZero();
        assertThat(gw.counter("gateway.exporter.retries")).isPositive();
      }
    }
  }

  /** With no memory budget every request waits on disk only and is read back from the log to be sent. */
  @Test
  void requestsBeyondTheMemoryBudgetWaitOnDiskAndAreReadBack() throws Exception {
    String queue = persistent(", \"memory_bytes\": 0");
    try (GatewayHarness gw = gateway(queue)) {
      send(gw, 20);
      assertThat(acked).hasSize(200);
    }
    try (GatewayHarness gw = gateway(queue); OtlpSink sink = new OtlpSink(vertx, sinkPort).start()) {
      send(gw, 20);
      assertThat(awaitAllDelivered("spilled to disk, restarted, read back", sink)).isZero();
      assertThat(gw.counter("gateway.queue.recovered.items")).isEqualTo(200);
    }
  }

  @Test
  void backendDiesMidStreamAndReturns() throws Exception {
    try (GatewayHarness gw = gateway(persistent(""))) {
      List<OtlpSink> sinks = new ArrayList<>();
      OtlpSink first = new OtlpSink(vertx, sinkPort).start();
      sinks.add(first);
      send(gw, 10);
      Await.until("first part delivered", Duration.ofSeconds(10), () -> first.logBodies().size() >= 100);
      first.close();
      send(gw, 10);
      Thread.sleep(300);
      OtlpSink second = new OtlpSink(vertx, sinkPort).start();
      sinks.add(second);
      send(gw, 10);
      long duplicates = awaitAllDelivered("backend dies mid-stream and returns", sinks.toArray(new OtlpSink[0]));
      assertThat(acked).hasSize(300);
      assertThat(duplicates).isLessThanOrEqualTo(50); // at most the batch in flight when it died
      second.close();
    }
  }

  @Test
  void slowBackendTimesOutAndIsRetried() throws Exception {
    try (OtlpSink sink = new OtlpSink(vertx, sinkPort).start();
         GatewayHarness gw = gateway(persistent(""))) {
      sink.script(n -> n <= 3 ? OtlpSink.Reply.STALL : OtlpSink.Reply.OK); // never answers the first three calls
      send(gw, 10);
      assertThat(awaitAllDelivered("slow backend", sink)).isZero();
      assertThat(gw.counter("gateway.exporter.retries")).isGreaterThanOrEqualTo(3);
    }
  }

  @Test
  void retryableErrorsAreRetriedAndPermanentOnesDeadLettered() throws Exception {
    try (OtlpSink sink = new OtlpSink(vertx, sinkPort).start();
         GatewayHarness gw = gateway(persistent(""))) {
      // The gRPC counterparts of HTTP 429 (RESOURCE_EXHAUSTED with RetryInfo) and 503 (UNAVAILABLE): retried.
      sink.script(n -> n == 1 ? OtlpSink.Reply.retryAfter(GrpcStatus.RESOURCE_EXHAUSTED, 50)
          : n == 2 ? OtlpSink.Reply.status(GrpcStatus.UNAVAILABLE) : OtlpSink.Reply.OK);
      send(gw, 5);
      assertThat(awaitAllDelivered("429/503 (RESOURCE_EXHAUSTED, UNAVAILABLE)", sink)).isZero();

      // The counterparts of 500 (INTERNAL) and 400 (INVALID_ARGUMENT): permanent per the OTLP spec.
      int before = sink.logBodies().size();
      sink.script(n -> OtlpSink.Reply.status(n % 2 == 0 ? GrpcStatus.INTERNAL : GrpcStatus.INVALID_ARGUMENT));
      acked.clear();
      send(gw, 4);
      Await.until("40 records dead-lettered", Duration.ofSeconds(10),
          () -> gw.counter("gateway.exporter.items.failed", "reason", "permanent") == 40);
      Path dlq = tmp.resolve("dlq.jsonl");
      Await.until("dead-letter lines", Duration.ofSeconds(10), () -> Files.exists(dlq) && lines(dlq).stream()
          .mapToInt(l -> new JsonObject(l).getInteger("items")).sum() == 40);
      Set<String> dead = new HashSet<>();
      for (String l : lines(dlq)) {
        JsonObject o = new JsonObject(l);
        assertThat(o.getString("reason")).isEqualTo("permanent");
        assertThat(o.getString("exporter")).isEqualTo("backend");
        assertThat(o.getString("signal")).isEqualTo("logs");
        assertThat(o.getJsonObject("error").getString("message")).containsAnyOf("backend answered INTERNAL (13)",
            "backend answered INVALID_ARGUMENT (3)");
        o.getJsonObject("request").getJsonArray("resourceLogs").forEach(rl -> ((JsonObject) rl)
            .getJsonArray("scopeLogs").forEach(sl -> ((JsonObject) sl).getJsonArray("logRecords").forEach(lr ->
                dead.add(((JsonObject) lr).getJsonObject("body").getString("stringValue")))));
      }
      assertThat(dead).isEqualTo(acked); // every acknowledged record is accounted for: in the dead-letter file
      assertThat(sink.logBodies()).hasSize(before);
      System.out.printf("500/400 (INTERNAL, INVALID_ARGUMENT): acknowledged %d, delivered 0, dead-lettered %d%n",
          acked.size(), dead.size());
    }
  }

  @Test
  void diskCapReachedRefusesCleanlyAndRecoversAfterRestart() throws Exception {
    String queue = persistent(", \"max_bytes\": \"2KiB\"");
    try (OtlpSink sink = new OtlpSink(vertx, sinkPort).start()) {
      sink.script(n -> OtlpSink.Reply.STALL);
      try (GatewayHarness gw = gateway(queue)) {
        send(gw, 60);
        assertThat(statuses).contains(429).doesNotContain(500, 503);
        assertThat(acked.size()).isLessThan(sent);
        assertThat(gw.counter("gateway.receiver.items.refused", "reason", "queue_full")).isPositive();
      }
      // Restart (the stalled calls never answered): the log holds what was acknowledged, intact.
      sink.script(n -> OtlpSink.Reply.OK);
      try (GatewayHarness gw = gateway(queue)) {
        assertThat(gw.counter("gateway.queue.torn.records")).isZero();
        assertThat(gw.counter("gateway.queue.recovered.items")).isPositive();
        assertThat(awaitAllDelivered("disk cap reached, restarted", sink)).isZero();
      }
    }
  }

  @Test
  void dropOldestKeepsAcceptingAndCountsWhatItDrops() throws Exception {
    // One batch (50) in flight at most, the rest waits: drop_oldest drops waiting data, never a batch being sent.
    String queue = "{\"max_items\": 300, \"concurrency\": 1, \"when_full\": \"drop_oldest\"}";
    try (GatewayHarness gw = gateway(queue)) {
      send(gw, 60); // backend down: 600 records into a 300-record queue
      assertThat(statuses).containsOnly(200);
      Await.until("drops counted", Duration.ofSeconds(10),
          () -> gw.counter("gateway.exporter.items.failed", "reason", "drop_oldest") >= 300);
      double dropped = gw.counter("gateway.exporter.items.failed", "reason", "drop_oldest");
      try (OtlpSink sink = new OtlpSink(vertx, sinkPort).start()) {
        Await.until("the rest delivered", Duration.ofSeconds(30),
            () -> sink.logBodies().size() + dropped >= acked.size());
        List<String> got = sink.logBodies();
        System.out.printf("drop_oldest: sent %d, acknowledged %d, dropped %.0f, delivered %d%n", sent, acked.size(),
            dropped, got.size());
        assertThat(got.size() + dropped).isEqualTo(acked.size());
        assertThat(got).contains("rec-600"); // the newest survive
      }
    }
  }

  static List<String> lines(Path p) {
    try {
      return Files.readAllLines(p);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
