package dev.telemetry.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.Await;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trace backend is down for 60 s while clients saturate the gateway (the shipped jar, its heap capped, run with
 * -XX:+ExitOnOutOfMemoryError so an OutOfMemoryError cannot hide), then comes back. Tail sampling sits in the path
 * with a memory budget larger than the heap, as a new user might configure it. The process must stay alive and
 * answer liveness throughout, refuse with retry hints (429 + Retry-After, RESOURCE_EXHAUSTED + RetryInfo) instead of
 * growing, deliver every acknowledged span once the backend is back (persistent queue), deliver nothing it refused,
 * and give its memory back: the heap ledger returns to zero and the heap after a collection to its baseline.
 */
class OutageIT {
  static final Path JAR = Path.of(System.getProperty("gateway.jar", "target/telemetry-gateway.jar"));
  static final int TRACES_PER_REQUEST = 10;
  static final int SPANS_PER_TRACE = 10;
  static final Duration OUTAGE = Duration.ofSeconds(60);

  @TempDir
  Path tmp;
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  final int http = Ports.free();
  final int grpc = Ports.free();
  final int admin = Ports.free();
  final int backend = Ports.free();
  Vertx vertx;
  Process gateway;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (gateway != null && gateway.isAlive()) {
      gateway.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  /** Unrouted, every trace kept, 256 MiB of heap. */
  @Test
  void smallHeapAlwaysSampleUnrouted() throws Exception {
    run("256m", """
        [{"name": "all", "type": "always_sample"}]""", null, request -> true);
  }

  /** Routed: one service's traces go through an errors-only policy set, the rest are all kept; 1 GiB of heap. */
  @Test
  void largeHeapErrorsPolicyRouted() throws Exception {
    String routes = """
        {"rules": [{"id": "checkout-errors", "match": {"resource": {"service.name": "checkout"}},
                    "sampling": "errors"}]}""";
    run("1g", """
        [{"name": "all", "type": "always_sample"}]""", routes, trace -> !trace.service().equals("checkout")
        || trace.error());
  }

  /** One generated trace: which request, which service, whether it carries an error. */
  record TraceKey(long request, int index, String service, boolean error) {
  }

  interface Expect {
    boolean kept(TraceKey trace);
  }

  void run(String heap, String policies, String routes, Expect expect) throws Exception {
    Path config = tmp.resolve("gateway.json");
    String routing = "";
    String errorsSampler = "";
    if (routes != null) {
      Files.writeString(tmp.resolve("routes.json"), routes);
      routing = ", \"routing\": {\"file\": \"" + tmp.resolve("routes.json") + "\", \"watch_interval\": \"0s\"}";
      errorsSampler = """
          , "errors": {"type": "tail_sampling", "decision_wait": "1s", "memory_budget": "1GiB",
             "decision_cache": {"sampled": 10000, "not_sampled": 10000},
             "policies": [{"name": "errors", "type": "status_code", "status_codes": ["ERROR"]}]}""";
    }
    Files.writeString(config, """
        {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:%d"},
                                "http": {"endpoint": "127.0.0.1:%d"}}},
         "processors": {"sampler": {"type": "tail_sampling", "decision_wait": "1s", "memory_budget": "1GiB",
                                    "decision_cache": {"sampled": 10000, "not_sampled": 10000},
                                    "policies": %s}%s},
         "exporters": {"jaeger": {"type": "otlp", "endpoint": "http://127.0.0.1:%d", "timeout": "2s",
           "compression": "none", "batch": {"max_items": 2000, "timeout": "20ms"},
           "queue": {"type": "persistent", "directory": "%s", "max_bytes": "64MiB", "memory_bytes": "16MiB"},
           "retry": {"initial_interval": "100ms", "max_interval": "1s", "max_elapsed_time": "10m"}}},
         "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["sampler"], "exporters": ["jaeger"]}},
         "admin": {"endpoint": "127.0.0.1:%d"},
         "shutdown_timeout": "5s"%s}""".formatted(grpc, http, policies, errorsSampler, backend,
        tmp.resolve("queue"), admin, routing));
    Path log = tmp.resolve("gateway.log");
    gateway = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx" + heap,
        "-XX:+ExitOnOutOfMemoryError", "-jar", JAR.toAbsolutePath().toString(), "--config", config.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Await.until("the gateway is ready", Duration.ofSeconds(60), () -> status("/health/ready") == 200);
    long baseline = heapAfterGc();

    // The backend is down: clients saturate the gateway for OUTAGE, while liveness is polled.
    Map<Long, List<TraceKey>> acknowledged = new ConcurrentHashMap<>();
    AtomicLong requests = new AtomicLong();
    AtomicInteger refusedWithHint = new AtomicInteger();
    AtomicInteger refusedWithoutHint = new AtomicInteger();
    AtomicInteger otherFailures = new AtomicInteger();
    AtomicInteger livenessFailures = new AtomicInteger();
    AtomicBoolean go = new AtomicBoolean(true);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      boolean overGrpc = t == 2;
      Thread thread = new Thread(() -> {
        try (RawGrpc raw = overGrpc ? new RawGrpc(vertx, grpc) : null) {
          while (go.get()) {
            long n = requests.incrementAndGet();
            List<TraceKey> traces = new ArrayList<>();
            byte[] body = request(n, traces);
            int outcome = overGrpc ? sendGrpc(raw, body) : sendHttp(body);
            switch (outcome) {
              case 0 -> acknowledged.put(n, traces);
              case 1 -> refusedWithHint.incrementAndGet();
              case 2 -> refusedWithoutHint.incrementAndGet();
              default -> otherFailures.incrementAndGet();
            }
            if (outcome != 0) {
              sleep(10); // a client backs off a little when told to retry
            }
          }
        } catch (Exception e) {
          otherFailures.incrementAndGet();
        }
      }, "load-" + t);
      thread.start();
      threads.add(thread);
    }
    long end = System.nanoTime() + OUTAGE.toNanos();
    while (System.nanoTime() < end) {
      if (status("/health/live") != 200) {
        livenessFailures.incrementAndGet();
      }
      sleep(500);
    }
    go.set(false);
    for (Thread t : threads) {
      t.join();
    }
    double charged = metric("gateway_memory_charged_bytes");
    double limit = metric("gateway_memory_charge_limit_bytes");
    System.out.printf("outage (%s): %d requests, %d acknowledged, %d refused with a retry hint, %d without, %d "
            + "other failures, %d liveness failures; charged %d MiB of %d MiB%n", heap, requests.get(),
        acknowledged.size(), refusedWithHint.get(), refusedWithoutHint.get(), otherFailures.get(),
        livenessFailures.get(), (long) charged >> 20, (long) limit >> 20);
    assertThat(gateway.isAlive()).as("the gateway survived the outage").isTrue();
    assertThat(livenessFailures.get()).as("liveness answered 200 throughout").isZero();
    assertThat(refusedWithHint.get()).as("clients were told to retry").isPositive();
    assertThat(refusedWithoutHint.get()).as("refusals without a retry hint").isZero();
    assertThat(otherFailures.get()).as("requests that failed otherwise").isZero();
    assertThat(acknowledged).as("data accepted before the bounds were reached").isNotEmpty();

    // The backend is back: everything acknowledged arrives, nothing else, and the memory is given back.
    try (OtlpSink sink = new OtlpSink(vertx, backend).start()) {
      Set<ByteString> expected = ConcurrentHashMap.newKeySet();
      acknowledged.values().forEach(ts -> ts.stream().filter(expect::kept)
          .forEach(tk -> expected.add(traceId(tk.request(), tk.index()))));
      Await.until(() -> "every kept, acknowledged trace delivered (" + expected.size() + " expected)",
          Duration.ofSeconds(180), () -> delivered(sink).keySet().containsAll(expected));
      Await.until("the queue is empty", Duration.ofSeconds(30),
          () -> metric("gateway_queue_items") == 0 && metric("gateway_memory_charged_bytes") == 0);
      Map<ByteString, Integer> got = delivered(sink);
      long unexpected = got.keySet().stream().filter(id -> !expected.contains(id)).count();
      long incomplete = expected.stream().filter(id -> got.get(id) != SPANS_PER_TRACE).count();
      System.out.printf("recovery (%s): %d traces expected, %d delivered, %d incomplete or duplicated, %d not "
          + "expected%n", heap, expected.size(), got.size(), incomplete, unexpected);
      assertThat(incomplete).as("acknowledged traces delivered whole, once").isZero();
      assertThat(unexpected).as("traces delivered that were refused or dropped by policy").isZero();
    }
    long after = heapAfterGc();
    System.out.printf("heap after GC (%s): baseline %d MiB, after recovery %d MiB%n", heap, baseline >> 20,
        after >> 20);
    // What legitimately stays: the samplers' decision caches (10,000 trace IDs each here), JIT'd code's data.
    assertThat(after).as("heap after GC back near its baseline").isLessThan(baseline + (48L << 20));
    assertThat(Files.readString(log)).doesNotContain("OutOfMemoryError");
  }

  /** 0 acknowledged, 1 refused with a retry hint, 2 refused without one, 3 anything else. */
  int sendHttp(byte[] body) {
    try {
      HttpResponse<Void> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http
          + "/v1/traces")).timeout(Duration.ofSeconds(20)).header("Content-Type", "application/x-protobuf")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding());
      if (r.statusCode() == 200) {
        return 0;
      }
      if (r.statusCode() == 429 || r.statusCode() == 503) {
        return r.headers().firstValue("Retry-After").isPresent() ? 1 : 2;
      }
      return 3;
    } catch (Exception e) {
      return 3;
    }
  }

  int sendGrpc(RawGrpc raw, byte[] body) {
    try {
      RawGrpc.Result r = raw.export(Signal.TRACES, Buffer.buffer(body), "identity");
      if (r.status() == GrpcStatus.OK) {
        return 0;
      }
      if (r.status() == GrpcStatus.RESOURCE_EXHAUSTED || r.status() == GrpcStatus.UNAVAILABLE) {
        // RetryInfo rides in grpc-status-details-bin: in the trailers, or in the headers of a trailers-only answer.
        boolean hint = r.trailers().get("grpc-status-details-bin") != null
            || r.headers().get("grpc-status-details-bin") != null;
        return hint ? 1 : 2;
      }
      return 3;
    } catch (Exception e) {
      return 3;
    }
  }

  static ByteString traceId(long request, int index) {
    return ByteString.copyFrom(ByteBuffer.allocate(16).putLong(0x0007a6eL).putLong(request * 100 + index).array());
  }

  /** TRACES_PER_REQUEST whole traces; every other request is from "checkout"; every 5th trace has an error. */
  static byte[] request(long n, List<TraceKey> traces) {
    String service = n % 2 == 0 ? "checkout" : "catalog";
    ScopeSpans.Builder ss = ScopeSpans.newBuilder();
    for (int t = 0; t < TRACES_PER_REQUEST; t++) {
      boolean error = t % 5 == 0;
      traces.add(new TraceKey(n, t, service, error));
      ByteString id = traceId(n, t);
      for (int s = 0; s < SPANS_PER_TRACE; s++) {
        ss.addSpans(Span.newBuilder().setTraceId(id).setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8)
                .putLong((n * 100 + t) * 100 + s + 1).array())).setName(s == 0 ? "GET /cart" : "SELECT cart")
            .setStartTimeUnixNano(1_700_000_000_000_000_000L).setEndTimeUnixNano(1_700_000_000_005_000_000L)
            .addAttributes(KeyValue.newBuilder().setKey("db.query.text").setValue(AnyValue.newBuilder()
                .setStringValue("SELECT * FROM carts WHERE id = " + (n * 31 + s))))
            .setStatus(Status.newBuilder().setCode(error && s == SPANS_PER_TRACE - 1
                ? Status.StatusCode.STATUS_CODE_ERROR : Status.StatusCode.STATUS_CODE_OK)));
      }
    }
    return ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("service.name")
            .setValue(AnyValue.newBuilder().setStringValue(service)))).addScopeSpans(ss)).build().toByteArray();
  }

  /** Spans delivered per trace ID. */
  static Map<ByteString, Integer> delivered(OtlpSink sink) {
    Map<ByteString, Integer> out = new java.util.HashMap<>();
    for (Span s : sink.spans()) {
      out.merge(s.getTraceId(), 1, Integer::sum);
    }
    return out;
  }

  int status(String path) {
    try {
      return client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + path))
          .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  double metric(String name) {
    return Http.metric(client, admin, name);
  }

  /** Heap in use right after a full collection of the gateway process (jcmd GC.run). */
  long heapAfterGc() throws Exception {
    Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(gateway.pid()), "GC.run").redirectErrorStream(true).start();
    jcmd.getInputStream().readAllBytes();
    assertThat(jcmd.waitFor(30, TimeUnit.SECONDS)).isTrue();
    String body = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
    double heap = 0;
    for (String line : body.split("\n")) {
      if (line.startsWith("jvm_memory_used_bytes{area=\"heap\"")) {
        heap += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return (long) heap;
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
