package dev.telemetry.gateway.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayProcess;
import dev.telemetry.gateway.testing.Http;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.RawGrpc;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A traffic spike against a small heap while the backend is down: the jar with {@code -Xmx128m
 * -XX:+ExitOnOutOfMemoryError}, memory queues allowed far more than the heap, eight clients (six over OTLP/HTTP, two
 * over gRPC) each sending 20 requests of ~0.5 MiB at once. The memory limit must refuse part of the spike (429 with
 * Retry-After, RESOURCE_EXHAUSTED with RetryInfo); each client sends a refused request again after the hint, as the
 * OTLP specification asks. When the backend returns, every record is acknowledged and delivered: sent ==
 * acknowledged == delivered, the process never died.
 */
class MemorySpikeIT {
  static final int HTTP_CLIENTS = 6;
  static final int GRPC_CLIENTS = 2;
  static final int REQUESTS_PER_CLIENT = 20;
  static final int RECORDS_PER_REQUEST = 500;
  static final Duration OUTAGE = Duration.ofSeconds(10);

  @TempDir
  Path tmp;

  final Set<String> acked = ConcurrentHashMap.newKeySet();
  final AtomicInteger sent = new AtomicInteger();
  final AtomicInteger refusedHttp = new AtomicInteger();
  final AtomicInteger refusedGrpc = new AtomicInteger();
  final Map<Integer, Integer> otherStatuses = new ConcurrentHashMap<>();

  @Test
  void everyRefusedRecordIsRetriedByItsClientAndDelivered() throws Exception {
    int grpc = Ports.free();
    int http = Ports.free();
    int admin = Ports.free();
    int sinkPort = Ports.free();
    Path config = tmp.resolve("gateway.json");
    Files.writeString(config, """
        {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:%d"},
                                "http": {"endpoint": "127.0.0.1:%d"}, "max_request_bytes": "4MiB"}},
         "exporters": {"backend": {"type": "otlp", "endpoint": "http://127.0.0.1:%d", "compression": "none",
           "timeout": "2s", "queue": {"max_items": 10000000, "max_bytes": "1GiB"},
           "batch": {"max_items": 150, "timeout": "5ms"},
           "retry": {"initial_interval": "100ms", "max_interval": "1s", "max_elapsed_time": "10m"}}},
         "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["backend"]}},
         "memory_limit": {"max_heap_percent": 70, "check_interval": "20ms"},
         "admin": {"endpoint": "127.0.0.1:%d"}, "logging": {"level": "warn"}, "shutdown_timeout": "1s"}"""
        .formatted(grpc, http, sinkPort, admin));
    Vertx vertx = Vertx.vertx();
    HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    Process p = null;
    ExecutorService clients = Executors.newFixedThreadPool(HTTP_CLIENTS + GRPC_CLIENTS);
    try (OtlpSink sink = new OtlpSink(vertx, sinkPort).start()) {
      long backUp = System.nanoTime() + OUTAGE.toNanos();
      sink.script(n -> System.nanoTime() < backUp ? OtlpSink.Reply.status(GrpcStatus.UNAVAILABLE)
          : OtlpSink.Reply.OK);
      p = GatewayProcess.start("128m", config, tmp.resolve("gateway.log"), client, admin);
      List<Future<?>> all = new ArrayList<>();
      for (int c = 0; c < HTTP_CLIENTS + GRPC_CLIENTS; c++) {
        int id = c;
        boolean overGrpc = c >= HTTP_CLIENTS;
        all.add(clients.submit(() -> {
          try (RawGrpc raw = overGrpc ? new RawGrpc(vertx, grpc) : null) {
            for (int r = 0; r < REQUESTS_PER_CLIENT; r++) {
              List<String> ids = new ArrayList<>(RECORDS_PER_REQUEST);
              byte[] body = request(id, r, ids);
              sent.addAndGet(ids.size());
              while (!(overGrpc ? sendGrpc(raw, body) : sendHttp(client, http, body))) {
                // the hint was honoured inside send*
              }
              acked.addAll(ids);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : all) {
        f.get(240, TimeUnit.SECONDS);
      }
      try {
        Await.until("every acknowledged record delivered", Duration.ofSeconds(120),
            () -> new HashSet<>(sink.logBodies()).containsAll(acked));
      } catch (AssertionError e) {
        Set<String> missing = new HashSet<>(acked);
        missing.removeAll(sink.logBodies());
        System.out.printf("MemorySpikeIT: %d of %d acknowledged not delivered (e.g. %s); sink calls %d; queue items %.0f;"
            + " items failed %.0f; alive %s%n", missing.size(), acked.size(), missing.stream().limit(5).toList(),
            sink.calls(), Http.metric(client, admin, "gateway_queue_items"),
            Http.metric(client, admin, "gateway_exporter_items_failed_total"), p.isAlive());
        List<String> log = Files.readAllLines(tmp.resolve("gateway.log"));
        log.subList(Math.max(0, log.size() - 60), log.size()).forEach(System.out::println);
        throw e;
      }
      Set<String> delivered = new HashSet<>(sink.logBodies());
      double memoryRefusals = Http.metric(client, admin, "gateway_memory_charge_refusals_total");
      double guardRefusals = Http.metric(client, admin, "gateway_receiver_items_refused_total",
          "reason=\"memory_limit\"");
      System.out.printf("MemorySpikeIT: sent %d, acknowledged %d, delivered %d distinct (%d with duplicates), "
          + "refused and retried: %d HTTP requests (429), %d gRPC calls (RESOURCE_EXHAUSTED); ledger refusals %.0f, "
          + "items refused for memory %.0f; other answers %s; lost %d%n", sent.get(), acked.size(),
          delivered.size(), sink.logBodies().size(), refusedHttp.get(), refusedGrpc.get(), memoryRefusals,
          guardRefusals, otherStatuses, acked.size() - delivered.size());
      assertThat(p.isAlive()).as("the gateway survived the spike").isTrue();
      assertThat(Files.readString(tmp.resolve("gateway.log"))).doesNotContain("OutOfMemoryError");
      assertThat(acked).hasSize(sent.get()).hasSize((HTTP_CLIENTS + GRPC_CLIENTS) * REQUESTS_PER_CLIENT
          * RECORDS_PER_REQUEST);
      Set<String> missing = new HashSet<>(acked);
      missing.removeAll(delivered); // not AssertJ's containsAll: it compares list against list, O(n²) for 80,000
      assertThat(missing).as("acknowledged records not delivered").isEmpty();
      assertThat(refusedHttp.get() + refusedGrpc.get()).as("the spike hit the memory limit").isPositive();
      assertThat(memoryRefusals + guardRefusals).as("refused for memory, not another reason").isPositive();
      assertThat(otherStatuses).as("answers other than success and retry-later").isEmpty();
    } finally {
      clients.shutdownNow();
      GatewayProcess.kill(p);
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /** ~0.5 MiB: 500 records of ~1 KB, each body its ID (found again at the backend) and padding. */
  static byte[] request(int clientId, int r, List<String> ids) {
    ScopeLogs.Builder sl = ScopeLogs.newBuilder();
    String padding = "p".repeat(1000);
    for (int i = 0; i < RECORDS_PER_REQUEST; i++) {
      String id = "c" + clientId + "-r" + r + "-" + i;
      ids.add(id);
      sl.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(1).setBody(AnyValue.newBuilder().setStringValue(id))
          .addAttributes(io.opentelemetry.proto.common.v1.KeyValue.newBuilder().setKey("padding")
              .setValue(AnyValue.newBuilder().setStringValue(padding))));
    }
    return ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder().addScopeLogs(sl)).build()
        .toByteArray();
  }

  /** True when accepted; on 429/503 waits for Retry-After (at most 2 s) and returns false. */
  boolean sendHttp(HttpClient client, int port, byte[] body) throws Exception {
    HttpResponse<Void> resp = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
        + "/v1/logs")).header("Content-Type", "application/x-protobuf").timeout(Duration.ofSeconds(60))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding());
    if (resp.statusCode() == 200) {
      return true;
    }
    if (resp.statusCode() == 429 || resp.statusCode() == 503) {
      refusedHttp.incrementAndGet();
      String hint = resp.headers().firstValue("Retry-After").orElse(null);
      assertThat(hint).as("Retry-After on %d", resp.statusCode()).isNotNull();
      Thread.sleep(Math.min(2000, Long.parseLong(hint) * 1000));
      return false;
    }
    otherStatuses.merge(resp.statusCode(), 1, Integer::sum);
    Thread.sleep(1000);
    return false;
  }

  /** True when accepted; on RESOURCE_EXHAUSTED/UNAVAILABLE waits the RetryInfo delay (at most 2 s). */
  boolean sendGrpc(RawGrpc raw, byte[] body) throws Exception {
    RawGrpc.Result r = raw.export(Signal.LOGS, Buffer.buffer(body), "identity");
    if (r.status() == GrpcStatus.OK) {
      return true;
    }
    if (r.status() == GrpcStatus.RESOURCE_EXHAUSTED || r.status() == GrpcStatus.UNAVAILABLE) {
      refusedGrpc.incrementAndGet();
      Thread.sleep(Math.min(2000, Math.max(100, RawGrpc.retryDelayMillis(r))));
      return false;
    }
    otherStatuses.merge(1000 + r.status().code, 1, Integer::sum);
    Thread.sleep(1000);
    return false;
  }
}
