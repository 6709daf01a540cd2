package dev.telemetry.gateway.processor.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayProcess;
import dev.telemetry.gateway.testing.Http;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.RawGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.grpc.common.GrpcStatus;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped jar, tail sampling keeping error traces (decision_wait 2 s) in front of a persistent queue (fsync
 * always), the backend up, is killed with SIGKILL under load from HTTP and gRPC clients at seeded moments — while
 * the sampler holds undecided traces — and restarted, several times. Each trace's spans come in two requests (the
 * error is in the second). Every error trace whose two requests were acknowledged within one life of the process
 * arrives whole; duplicates come only from replays and are bounded by them.
 */
class SamplerCrashIT {
  static final int NEW_TRACES_PER_REQUEST = 5;
  static final int HALF = 5;
  static final int KILLS = 3;
  static final long SEED = 16;

  @TempDir
  Path tmp;
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  final int http = Ports.free();
  final int grpc = Ports.free();
  final int admin = Ports.free();
  final int backend = Ports.free();
  final Vertx vertx = Vertx.vertx();
  final AtomicLong nextTrace = new AtomicLong();
  /** Halves acknowledged per trace number: bit 1 first half, bit 2 second half. */
  final Map<Long, Integer> acked = new ConcurrentHashMap<>();
  Process gateway;

  @AfterEach
  void tearDown() throws Exception {
    GatewayProcess.kill(gateway);
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void everyAcknowledgedErrorTraceSurvivesSigkillsWhole() throws Exception {
    Path config = tmp.resolve("gateway.json");
    Files.writeString(config, """
        {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:%d"},
                                "http": {"endpoint": "127.0.0.1:%d"}}},
         "processors": {"errors": {"type": "tail_sampling", "decision_wait": "2s", "memory_budget": "128MiB",
           "policies": [{"name": "errors", "type": "status_code", "status_codes": ["ERROR"]}]}},
         "exporters": {"jaeger": {"type": "otlp", "endpoint": "http://127.0.0.1:%d", "compression": "none",
           "timeout": "2s", "batch": {"max_items": 500, "timeout": "10ms"},
           "queue": {"type": "persistent", "directory": "%s", "fsync": "always", "segment_bytes": "1MiB"},
           "retry": {"initial_interval": "50ms", "max_interval": "500ms", "max_elapsed_time": "10m"}}},
         "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["errors"], "exporters": ["jaeger"]}},
         "admin": {"endpoint": "127.0.0.1:%d"}}""".formatted(grpc, http, backend, tmp.resolve("queue"), admin));
    Random random = new Random(SEED);
    double restored = 0;
    double recovered = 0;
    try (OtlpSink sink = new OtlpSink(vertx, backend).start()) {
      for (int life = 0; life <= KILLS; life++) {
        start(config, life);
        restored += metric("gateway_processor_tail_sampling_restored_spans_total");
        recovered += metric("gateway_queue_recovered_items_total");
        if (life == KILLS) {
          break;
        }
        Clients clients = new Clients();
        Thread.sleep(1500 + random.nextInt(2500)); // 1.5–4 s: inside decision_wait of the latest traces
        gateway.destroyForcibly();
        assertThat(gateway.waitFor(20, TimeUnit.SECONDS)).isTrue();
        clients.stop();
        System.out.printf("life %d: %d requests, %d acknowledged, killed%n", life, clients.sent.get(),
            clients.ok.get());
      }

      Set<Long> expected = new HashSet<>();
      acked.forEach((trace, halves) -> {
        if (halves == 3 && error(trace)) {
          expected.add(trace);
        }
      });
      assertThat(expected).as("error traces acknowledged whole").isNotEmpty();
      Await.until(() -> "every acknowledged error trace delivered whole (" + expected.size() + ")",
          Duration.ofSeconds(60), () -> {
            Map<Long, Set<ByteString>> got = delivered(sink);
            return expected.stream().allMatch(t -> got.getOrDefault(t, Set.of()).size() == 2 * HALF);
          });
      Await.until("the queue is empty", Duration.ofSeconds(30), () -> metric("gateway_queue_items") == 0);
      Map<Long, Set<ByteString>> got = delivered(sink);
      long lost = expected.stream().filter(t -> got.getOrDefault(t, Set.of()).size() != 2 * HALF).count();
      long deliveries = sink.spans().size();
      long distinct = got.values().stream().mapToLong(Set::size).sum();
      long notErrors = got.keySet().stream().filter(t -> !error(t)).count();
      long partial = got.keySet().stream().filter(t -> error(t) && !expected.contains(t)).count();
      Map<ByteString, Integer> copies = new HashMap<>();
      sink.spans().forEach(sp -> copies.merge(sp.getSpanId(), 1, Integer::sum));
      long tracesWithDuplicates = sink.spans().stream().filter(sp -> copies.get(sp.getSpanId()) > 1)
          .map(sp -> sp.getTraceId()).distinct().count();
      System.out.printf("after %d SIGKILLs: %d error traces acknowledged whole, %d lost; %d spans delivered, %d "
              + "duplicates in %d traces (replayed: %.0f spans restored by the sampler, %.0f by the queue); %d partly "
              + "acknowledged error traces delivered; %d other traces%n", KILLS, expected.size(), lost, deliveries,
          deliveries - distinct, tracesWithDuplicates, restored, recovered, partial, notErrors);
      double replayed = restored + recovered;
      assertThat(lost).as("acknowledged error traces lost or partial").isZero();
      assertThat(notErrors).as("traces without an error delivered").isZero();
      assertThat((double) (deliveries - distinct)).as("duplicates, each from a replay").isLessThanOrEqualTo(replayed);
      assertThat(Files.readString(tmp.resolve("gateway-" + KILLS + ".log"))).doesNotContain("OutOfMemoryError");
    }
  }

  void start(Path config, int life) throws Exception {
    gateway = GatewayProcess.start("512m", config, tmp.resolve("gateway-" + life + ".log"), client, admin);
  }

  /** Every fourth trace has an error, on its last span (in the second request). */
  static boolean error(long trace) {
    return trace % 4 == 0;
  }

  static ByteString traceId(long trace) {
    return ByteString.copyFrom(ByteBuffer.allocate(16).putLong(0x5a3b1e).putLong(trace).array());
  }

  static long traceNumber(ByteString id) {
    return id.asReadOnlyByteBuffer().getLong(8);
  }

  /** Distinct span IDs delivered, by trace number. */
  static Map<Long, Set<ByteString>> delivered(OtlpSink sink) {
    Map<Long, Set<ByteString>> out = new HashMap<>();
    for (Span s : sink.spans()) {
      out.computeIfAbsent(traceNumber(s.getTraceId()), k -> new HashSet<>()).add(s.getSpanId());
    }
    return out;
  }

  /** Second halves of {@code open}, first halves of {@code fresh}. */
  static byte[] request(List<Long> open, List<Long> fresh) {
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (long t : open) {
      for (int s = HALF; s < 2 * HALF; s++) {
        ss.addSpans(span(t, s));
      }
    }
    for (long t : fresh) {
      for (int s = 0; s < HALF; s++) {
        ss.addSpans(span(t, s));
      }
    }
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("service.name")
            .setValue(AnyValue.newBuilder().setStringValue("checkout")))).addScopeSpans(ss)).build().toByteArray();
  }

  static Span span(long trace, int s) {
    boolean err = error(trace) && s == 2 * HALF - 1;
    return Span.newBuilder().setTraceId(traceId(trace))
        .setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8).putLong(trace * 100 + s + 1).array()))
        .setName(s == 0 ? "POST /checkout" : "charge card").setStartTimeUnixNano(1_700_000_000_000_000_000L)
        .setEndTimeUnixNano(1_700_000_000_003_000_000L)
        .setStatus(Status.newBuilder().setCode(err ? Status.StatusCode.STATUS_CODE_ERROR
            : Status.StatusCode.STATUS_CODE_OK)).build();
  }

  /** Two HTTP clients and one gRPC client; each trace's halves go in two consecutive requests of one client. */
  final class Clients {
    final AtomicBoolean go = new AtomicBoolean(true);
    final AtomicLong sent = new AtomicLong();
    final AtomicLong ok = new AtomicLong();
    final List<Thread> threads = new ArrayList<>();

    Clients() {
      for (int i = 0; i < 3; i++) {
        boolean overGrpc = i == 2;
        Thread t = new Thread(() -> {
          try (RawGrpc raw = overGrpc ? new RawGrpc(vertx, grpc) : null) {
            List<Long> open = List.of();
            while (go.get()) {
              List<Long> fresh = new ArrayList<>();
              for (int k = 0; k < NEW_TRACES_PER_REQUEST; k++) {
                fresh.add(nextTrace.incrementAndGet());
              }
              byte[] body = request(open, fresh);
              sent.incrementAndGet();
              if (overGrpc ? sendGrpc(raw, body) : sendHttp(body)) {
                ok.incrementAndGet();
                open.forEach(tr -> acked.merge(tr, 2, Integer::sum));
                fresh.forEach(tr -> acked.merge(tr, 1, Integer::sum));
              } else {
                Thread.sleep(20);
              }
              open = fresh;
            }
          } catch (Exception e) {
            // the client's connection died with the process: what it sent unacknowledged does not count
          }
        }, "load-" + i);
        t.start();
        threads.add(t);
      }
    }

    void stop() throws InterruptedException {
      go.set(false);
      for (Thread t : threads) {
        t.join();
      }
    }
  }

  boolean sendHttp(byte[] body) {
    try {
      return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + Signal.TRACES.httpPath()))
          .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/x-protobuf")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding())
          .statusCode() == 200;
    } catch (Exception e) {
      return false;
    }
  }

  boolean sendGrpc(RawGrpc raw, byte[] body) {
    try {
      return raw.export(Signal.TRACES, Buffer.buffer(body), "identity").status() == GrpcStatus.OK;
    } catch (Exception e) {
      return false;
    }
  }

  double metric(String name) {
    return Http.metric(client, admin, name);
  }
}
