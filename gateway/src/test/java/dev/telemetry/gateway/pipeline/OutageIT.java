package dev.telemetry.gateway.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.ElasticsearchServer;
import dev.telemetry.gateway.testing.GatewayProcess;
import dev.telemetry.gateway.testing.Http;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.PrometheusServer;
import dev.telemetry.gateway.testing.RawGrpc;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.metrics.v1.Gauge;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.ResourceMetrics;
import io.opentelemetry.proto.metrics.v1.ScopeMetrics;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.logs.v1.LogRecord;
import io.opentelemetry.proto.logs.v1.ResourceLogs;
import io.opentelemetry.proto.logs.v1.ScopeLogs;
import io.opentelemetry.proto.logs.v1.SeverityNumber;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A backend is down for at least 20 s, and 10 s past the first refusal, while clients saturate the gateway (the shipped jar, its heap capped, run with
 * -XX:+ExitOnOutOfMemoryError so an OutOfMemoryError cannot hide), then comes back. Tail sampling sits in the path
 * with a memory budget larger than the heap, as a new user might configure it. The process must stay alive and
 * answer liveness throughout, refuse with retry hints (429 + Retry-After, RESOURCE_EXHAUSTED + RetryInfo) instead of
 * growing, deliver every acknowledged span once the backend is back (persistent queue), deliver nothing it refused,
 * and give its memory back: the heap ledger returns to zero and the heap after a collection to its baseline.
 */
class OutageIT {
  static final int TRACES_PER_REQUEST = 10;
  static final int SPANS_PER_TRACE = 10;
  static final Duration OUTAGE = Duration.ofSeconds(20);
  /** How long clients must have been refused before the backend comes back. */
  static final Duration REFUSING = Duration.ofSeconds(10);
  static final Duration MAX_OUTAGE = Duration.ofSeconds(120);

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
    GatewayProcess.kill(gateway);
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

  /**
   * SIGTERM 20 s into the outage, the queue full, clients still sending, persistent queue: everything queued stays in
   * the queue's write-ahead log, undecided traces and kept traces waiting for room in the sampler's, and the last log
   * line says nothing acknowledged was lost; the gateway restarted with the backend back delivers every acknowledged
   * trace, whole and once.
   */
  @Test
  void shutdownWithFullQueuesKeepsEverythingAcknowledged() throws Exception {
    Path config = tracesConfig("""
        [{"name": "all", "type": "always_sample"}]""", null, persistentQueue());
    startGateway("256m", config);
    Map<Long, List<TraceKey>> acknowledged = new ConcurrentHashMap<>(
        saturate("256m", Signal.TRACES, OutageIT::request, Duration.ofSeconds(20)).acknowledged());
    acknowledged.putAll(sigtermUnderLoad(1000));
    restartAndExpectEverything(config, acknowledged);
  }

  /**
   * SIGTERM 3 s into the outage, before the queue is full: the sampler still holds undecided traces (decision_wait
   * 1 s) and clients are being acknowledged; the undecided traces stay in the sampler's journal, undecided, and the
   * restart decides and delivers them.
   */
  @Test
  void shutdownWithUndecidedTracesKeepsEverythingAcknowledged() throws Exception {
    Path config = tracesConfig("""
        [{"name": "all", "type": "always_sample"}]""", null, persistentQueue());
    startGateway("256m", config);
    Map<Long, List<TraceKey>> acknowledged = sigtermUnderLoad(3000);
    assertThat(acknowledged).as("acknowledged before the SIGTERM").isNotEmpty();
    restartAndExpectEverything(config, acknowledged);
  }

  void restartAndExpectEverything(Path config, Map<Long, List<TraceKey>> acknowledged) throws Exception {
    String log = Files.readString(tmp.resolve("gateway.log"));
    Matcher m = Pattern.compile("gateway stopped; nothing acknowledged was lost; kept for the next start: "
        + "(jaeger \\(traces\\): (\\d+) spans)?(, )?(tail sampler sampler: (\\d+) spans)?").matcher(log);
    assertThat(m.find()).as("the last line says what was kept:\n" + shutdownLines(log)).isTrue();
    long inQueue = m.group(2) == null ? 0 : Long.parseLong(m.group(2));
    long inSampler = m.group(5) == null ? 0 : Long.parseLong(m.group(5));
    long spans = acknowledged.values().stream().mapToLong(List::size).sum() * SPANS_PER_TRACE;
    long unanswered = unansweredAtSigterm.values().stream().mapToLong(List::size).sum() * SPANS_PER_TRACE;
    System.out.printf("kept at SIGTERM: %d spans in the queue, %d in the sampler's journal; %d acknowledged, %d in "
        + "requests without an answer%n", inQueue, inSampler, spans, unanswered);
    assertThat(inQueue + inSampler).as("kept = every acknowledged span (none was delivered), plus at most the "
        + "requests whose answer the shutdown cut off").isBetween(spans, spans + unanswered);
    assertThat(log).doesNotContain("OutOfMemoryError")
        .doesNotContain("shutdown did not complete");
    try (OtlpSink sink = new OtlpSink(vertx, backend).start()) {
      startGateway("256m", config, tmp.resolve("gateway-restarted.log"));
      assertThat(metric("gateway_queue_recovered_items_total")).as("replayed from the write-ahead log").isPositive();
      expectDelivered(sink, acknowledged, trace -> true, "after a restart", unansweredAtSigterm);
    }
  }

  /**
   * A memory queue, SIGTERM 3 s into the outage with traces queued, undecided and arriving: what was acknowledged is
   * lost, and the last log line says so — which exporter, how many spans, why — with a count of every span
   * acknowledged (the backend never came back), none counted twice; a request whose answer the shutdown cut off may
   * be in that count too.
   */
  @Test
  void shutdownCountsWhatAMemoryQueueLoses() throws Exception {
    startGateway("256m", tracesConfig("""
        [{"name": "all", "type": "always_sample"}]""", null, """
        {"type": "memory", "max_bytes": "64MiB"}"""));
    Map<Long, List<TraceKey>> acknowledged = sigtermUnderLoad(3000);
    long spans = acknowledged.values().stream().mapToLong(List::size).sum() * SPANS_PER_TRACE;
    String log = Files.readString(tmp.resolve("gateway.log"));
    Matcher m = Pattern.compile(
        "gateway stopped; acknowledged and lost at shutdown: jaeger \\(traces\\): (\\d+) spans \\(memory queue, "
            + "backend unreachable until the shutdown timeout\\)").matcher(log);
    assertThat(m.find()).as("the last line names the loss:\n" + shutdownLines(log)).isTrue();
    System.out.printf("memory queue at shutdown: %d spans acknowledged, %s reported lost%n", spans, m.group(1));
    assertThat(spans).as("acknowledged before the SIGTERM").isPositive();
    long unanswered = unansweredAtSigterm.values().stream().mapToLong(List::size).sum() * SPANS_PER_TRACE;
    assertThat(Long.parseLong(m.group(1))).as("every acknowledged span counted as lost, once (plus at most the "
        + "requests whose answer the shutdown cut off)").isBetween(spans, spans + unanswered);
    assertThat(log).doesNotContain("OutOfMemoryError")
        .doesNotContain("shutdown did not complete");
  }

  /**
   * The requests of the last {@link #sigtermUnderLoad} that got no answer (the connection closed under them, or was
   * refused once the gateway had stopped): the gateway may have taken one just before the shutdown cut its answer
   * off, so it may be kept and delivered too (at least once: a client would send it again) — never counted as
   * acknowledged.
   */
  Map<Long, List<TraceKey>> unansweredAtSigterm = Map.of();

  /** Load running, SIGTERM after {@code millis}; returns what was acknowledged once the process has exited. */
  Map<Long, List<TraceKey>> sigtermUnderLoad(long millis) throws Exception {
    Clients<List<TraceKey>> clients = new Clients<>(Signal.TRACES, OutageIT::request, 1_000_000);
    sleep(millis);
    gateway.destroy();
    assertThat(gateway.waitFor(30, TimeUnit.SECONDS)).as("stopped within shutdown_timeout + margin").isTrue();
    clients.stop();
    System.out.printf("SIGTERM under load: %d more requests, %d of them acknowledged, %d unanswered; exit code %d%n",
        clients.sent.get() - 1_000_000, clients.acknowledged.size(), clients.unanswered.size(), gateway.exitValue());
    unansweredAtSigterm = clients.unanswered;
    return clients.acknowledged;
  }

  /** The log from the shutdown request on. */
  static String shutdownLines(String log) {
    int from = log.indexOf("shutdown requested");
    return from < 0 ? log : log.substring(Math.max(0, log.lastIndexOf('\n', from) + 1));
  }

  /**
   * Logs with Elasticsearch down (not yet started) for the outage, 256 MiB of heap, a persistent queue; then
   * Elasticsearch comes up and every acknowledged record is indexed, once (content-derived document IDs).
   */
  @Test
  void smallHeapLogsWithElasticsearchDown() throws Exception {
    try (ElasticsearchServer es = new ElasticsearchServer()) {
      Path config = tmp.resolve("gateway.json");
      Files.writeString(config, """
          {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:%d"},
                                  "http": {"endpoint": "127.0.0.1:%d"}}},
           "exporters": {"es": {"type": "elasticsearch", "endpoints": ["%s"], "document_id": "content_hash",
             "timeout": "5s", "dead_letter_file": "%s", "batch": {"max_items": 2000, "timeout": "20ms"},
             "queue": {"type": "persistent", "directory": "%s", "max_bytes": "16MiB", "memory_bytes": "8MiB"},
             "retry": {"initial_interval": "100ms", "max_interval": "1s", "max_elapsed_time": "10m"}}},
           "pipelines": {"logs": {"receivers": ["otlp"], "exporters": ["es"]}},
           "admin": {"endpoint": "127.0.0.1:%d"},
           "shutdown_timeout": "5s"}""".formatted(grpc, http, es.url(), tmp.resolve("dlq.jsonl"),
          tmp.resolve("queue"), admin));
      startGateway("256m", config);
      long baseline = heapAfterGc();
      Load<List<String>> load = saturate("256m", Signal.LOGS, OutageIT::logs);
      long acknowledged = load.acknowledged().values().stream().mapToLong(List::size).sum();
      es.start();
      Await.until(() -> "every acknowledged record indexed (" + acknowledged + ")", Duration.ofSeconds(240),
          () -> indexed(es) >= acknowledged && metric("gateway_queue_items") == 0);
      Await.until("the ledger is empty", Duration.ofSeconds(30), () -> metric("gateway_memory_charged_bytes") == 0);
      long indexed = indexed(es);
      System.out.printf("recovery (logs, 256m): %d records acknowledged, %d indexed%n", acknowledged, indexed);
      assertThat(indexed).as("every acknowledged record indexed once, nothing refused indexed")
          .isEqualTo(acknowledged);
      expectMemoryBack("logs, 256m", baseline);
    }
  }

  /**
   * Metrics with Prometheus down (not yet started) for the outage, 256 MiB of heap, a persistent queue; then
   * Prometheus comes up and every acknowledged data point is a series there (each point has its own label value).
   */
  @Test
  void smallHeapMetricsWithPrometheusDown() throws Exception {
    try (PrometheusServer prom = new PrometheusServer(Ports.free(), tmp.resolve("prom"))) {
      Path config = tmp.resolve("gateway.json");
      Files.writeString(config, """
          {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:%d"},
                                  "http": {"endpoint": "127.0.0.1:%d"}}},
           "exporters": {"prom": {"type": "prometheus_remote_write", "endpoint": "%s", "timeout": "5s",
             "batch": {"max_items": 2000, "timeout": "20ms"},
             "queue": {"type": "persistent", "directory": "%s", "max_bytes": "16MiB", "memory_bytes": "8MiB"},
             "retry": {"initial_interval": "100ms", "max_interval": "1s", "max_elapsed_time": "10m"}}},
           "pipelines": {"metrics": {"receivers": ["otlp"], "exporters": ["prom"]}},
           "admin": {"endpoint": "127.0.0.1:%d"},
           "shutdown_timeout": "5s"}""".formatted(grpc, http, prom.writeEndpoint(), tmp.resolve("queue"), admin));
      startGateway("256m", config);
      long baseline = heapAfterGc();
      Load<List<String>> load = saturate("256m", Signal.METRICS, OutageIT::gauges);
      long acknowledged = load.acknowledged().values().stream().mapToLong(List::size).sum();
      prom.start();
      Await.until(() -> "every acknowledged point in Prometheus (" + acknowledged + ")", Duration.ofSeconds(240),
          () -> series(prom) >= acknowledged && metric("gateway_queue_items") == 0);
      Await.until("the ledger is empty", Duration.ofSeconds(30), () -> metric("gateway_memory_charged_bytes") == 0);
      long stored = series(prom);
      System.out.printf("recovery (metrics, 256m): %d points acknowledged, %d series in Prometheus%n",
          acknowledged, stored);
      assertThat(stored).as("every acknowledged point stored, nothing refused stored").isEqualTo(acknowledged);
      expectMemoryBack("metrics, 256m", baseline);
    }
  }

  static long series(PrometheusServer prom) {
    try {
      var r = prom.query("count(outage_level)");
      return r.isEmpty() ? 0 : Long.parseLong(r.getJsonObject(0).getJsonArray("value").getString(1));
    } catch (Exception e) {
      return -1;
    }
  }

  /** 100 gauge points, each its own series (label "point"), stamped now. */
  static byte[] gauges(long n, List<String> points) {
    Gauge.Builder g = Gauge.newBuilder();
    long now = System.currentTimeMillis() * 1_000_000L;
    for (int i = 0; i < 100; i++) {
      String point = n + "-" + i;
      points.add(point);
      g.addDataPoints(NumberDataPoint.newBuilder().setTimeUnixNano(now).setAsDouble(i)
          .addAttributes(KeyValue.newBuilder().setKey("point").setValue(AnyValue.newBuilder().setStringValue(point))));
    }
    return ExportMetricsServiceRequest.newBuilder().addResourceMetrics(ResourceMetrics.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("service.name")
            .setValue(AnyValue.newBuilder().setStringValue("orders"))))
        .addScopeMetrics(ScopeMetrics.newBuilder().addMetrics(Metric.newBuilder().setName("outage.level")
            .setGauge(g)))).build().toByteArray();
  }

  static long indexed(ElasticsearchServer es) {
    try {
      es.post("/logs-generic-default/_refresh", "{}");
      return es.get("/logs-generic-default/_count").getLong("count");
    } catch (Exception e) {
      return -1; // not created yet
    }
  }

  /** 100 log records with unique bodies. */
  static byte[] logs(long n, List<String> bodies) {
    ScopeLogs.Builder sl = ScopeLogs.newBuilder();
    for (int i = 0; i < 100; i++) {
      String body = "request " + n + " record " + i + ": order placed for cart " + (n * 7 + i);
      bodies.add(body);
      sl.addLogRecords(LogRecord.newBuilder().setTimeUnixNano(1_700_000_000_000_000_000L + n * 100 + i)
          .setSeverityNumber(SeverityNumber.SEVERITY_NUMBER_INFO).setSeverityText("INFO")
          .setBody(AnyValue.newBuilder().setStringValue(body)));
    }
    return ExportLogsServiceRequest.newBuilder().addResourceLogs(ResourceLogs.newBuilder()
        .setResource(Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("service.name")
            .setValue(AnyValue.newBuilder().setStringValue("orders")))).addScopeLogs(sl)).build().toByteArray();
  }

  void startGateway(String heap, Path config) throws Exception {
    startGateway(heap, config, tmp.resolve("gateway.log"));
  }

  void startGateway(String heap, Path config, Path log) throws Exception {
    gateway = GatewayProcess.start(heap, config, log, client, admin);
  }

  /** One generated trace: which request, which service, whether it carries an error. */
  record TraceKey(long request, int index, String service, boolean error) {
  }

  interface Expect {
    boolean kept(TraceKey trace);
  }

  /** A traces pipeline: OTLP in, a tail sampler with {@code policies}, one OTLP exporter behind {@code queue}. */
  Path tracesConfig(String policies, String routes, String queue) throws Exception {
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
           "compression": "none", "batch": {"max_items": 2000, "timeout": "20ms"}, "queue": %s,
           "retry": {"initial_interval": "100ms", "max_interval": "1s", "max_elapsed_time": "10m"}}},
         "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["sampler"], "exporters": ["jaeger"]}},
         "admin": {"endpoint": "127.0.0.1:%d"},
         "shutdown_timeout": "5s"%s}""".formatted(grpc, http, policies, errorsSampler, backend, queue, admin,
        routing));
    return config;
  }

  String persistentQueue() {
    return """
        {"type": "persistent", "directory": "%s", "max_bytes": "64MiB", "memory_bytes": "16MiB"}"""
        .formatted(tmp.resolve("queue"));
  }

  void run(String heap, String policies, String routes, Expect expect) throws Exception {
    Path config = tracesConfig(policies, routes, persistentQueue());
    startGateway(heap, config);
    long baseline = heapAfterGc();

    Load<List<TraceKey>> load = saturate(heap, Signal.TRACES, (n, traces) -> request(n, traces));
    Map<Long, List<TraceKey>> acknowledged = load.acknowledged();

    // The backend is back: everything acknowledged arrives, nothing else, and the memory is given back.
    try (OtlpSink sink = new OtlpSink(vertx, backend).start()) {
      expectDelivered(sink, acknowledged, expect, heap);
    }
    expectMemoryBack(heap, baseline);
  }

  /** After the recovery: the heap after a full collection is back near its baseline, and no OutOfMemoryError. */
  void expectMemoryBack(String label, long baseline) throws Exception {
    long after = heapAfterGc();
    System.out.printf("heap after GC (%s): baseline %d MiB, after recovery %d MiB%n", label, baseline >> 20,
        after >> 20);
    // What legitimately stays: the samplers' decision caches (10,000 trace IDs each here), JIT'd code's data.
    assertThat(after).as("heap after GC back near its baseline").isLessThan(baseline + (48L << 20));
    assertThat(Files.readString(tmp.resolve("gateway.log"))).doesNotContain("OutOfMemoryError");
  }

  /** Waits until every kept, acknowledged trace has arrived, then checks each arrived whole and once, and no other. */
  void expectDelivered(OtlpSink sink, Map<Long, List<TraceKey>> acknowledged, Expect expect, String label) {
    expectDelivered(sink, acknowledged, expect, label, Map.of());
  }

  /** {@code mayArrive}: requests without an answer, whose traces may arrive (whole and once) or not at all. */
  void expectDelivered(OtlpSink sink, Map<Long, List<TraceKey>> acknowledged, Expect expect, String label,
                       Map<Long, List<TraceKey>> mayArrive) {
    Set<ByteString> maybe = new java.util.HashSet<>();
    mayArrive.values().forEach(ts -> ts.forEach(tk -> maybe.add(traceId(tk.request(), tk.index()))));
    Set<ByteString> expected = ConcurrentHashMap.newKeySet();
    acknowledged.values().forEach(ts -> ts.stream().filter(expect::kept)
        .forEach(tk -> expected.add(traceId(tk.request(), tk.index()))));
    Await.until(() -> "every kept, acknowledged trace delivered (" + expected.size() + " expected)",
        Duration.ofSeconds(180), () -> delivered(sink).keySet().containsAll(expected));
    Await.until("the queue is empty", Duration.ofSeconds(30),
        () -> metric("gateway_queue_items") == 0 && metric("gateway_memory_charged_bytes") == 0);
    Map<ByteString, Integer> got = delivered(sink);
    long unexpected = got.keySet().stream().filter(id -> !expected.contains(id) && !maybe.contains(id)).count();
    long incomplete = expected.stream().filter(id -> got.get(id) != SPANS_PER_TRACE).count()
        + maybe.stream().filter(id -> got.containsKey(id) && got.get(id) != SPANS_PER_TRACE).count();
    System.out.printf("recovery (%s): %d traces expected, %d delivered, %d incomplete or duplicated, %d not "
        + "expected%n", label, expected.size(), got.size(), incomplete, unexpected);
    assertThat(incomplete).as("acknowledged traces delivered whole, once").isZero();
    assertThat(unexpected).as("traces delivered that were refused or dropped by policy").isZero();
  }

  /** What the clients saw during the outage: what was acknowledged, by request number. */
  record Load<T>(Map<Long, T> acknowledged) {
  }

  /** Builds request {@code n}'s body and records what it carries into {@code content}. */
  interface Requests<T> {
    byte[] build(long n, T content);
  }

  /**
   * Two HTTP clients and one gRPC client send {@code signal} requests as fast as they are answered for {@code
   * duration}, while liveness is polled; then the outcome is checked: alive, liveness 200 throughout, every refusal
   * with a retry hint.
   */
  <T> Load<T> saturate(String heap, Signal signal, Requests<T> requests) throws Exception {
    return saturate(heap, signal, requests, OUTAGE);
  }

  /**
   * The outage lasts at least {@code duration} and until the clients have been refused for {@link #REFUSING} (a
   * large heap takes longer to fill than a small one), at most {@link #MAX_OUTAGE}.
   */
  <T> Load<T> saturate(String heap, Signal signal, Requests<T> requests, Duration duration) throws Exception {
    Clients<T> clients = new Clients<>(signal, requests);
    AtomicInteger livenessFailures = new AtomicInteger();
    long start = System.nanoTime();
    long firstRefusal = 0;
    while (true) {
      long now = System.nanoTime();
      if (firstRefusal == 0 && clients.refusedWithHint.get() > 0) {
        firstRefusal = now;
      }
      boolean longEnough = now - start >= duration.toNanos()
          && firstRefusal != 0 && now - firstRefusal >= REFUSING.toNanos();
      if (longEnough || now - start >= MAX_OUTAGE.toNanos()) {
        break;
      }
      if (status("/health/live") != 200) {
        livenessFailures.incrementAndGet();
      }
      sleep(500);
    }
    clients.stop();
    double charged = metric("gateway_memory_charged_bytes");
    double limit = metric("gateway_memory_charge_limit_bytes");
    System.out.printf("outage (%s, %s): %d requests, %d acknowledged, %d refused with a retry hint, %d without, %d "
            + "other failures, %d liveness failures; charged %d MiB of %d MiB%n", signal.id(), heap,
        clients.sent.get(), clients.acknowledged.size(), clients.refusedWithHint.get(),
        clients.refusedWithoutHint.get(), clients.otherFailures.get(), livenessFailures.get(), (long) charged >> 20,
        (long) limit >> 20);
    assertThat(gateway.isAlive()).as("the gateway survived the outage").isTrue();
    assertThat(livenessFailures.get()).as("liveness answered 200 throughout").isZero();
    assertThat(clients.refusedWithHint.get()).as("clients were told to retry").isPositive();
    assertThat(clients.refusedWithoutHint.get()).as("refusals without a retry hint").isZero();
    assertThat(clients.otherFailures.get()).as("requests that failed otherwise").isZero();
    assertThat(clients.acknowledged).as("data accepted before the bounds were reached").isNotEmpty();
    return new Load<>(clients.acknowledged);
  }

  /** The load: two HTTP client threads and one gRPC client thread, each sending as fast as it is answered. */
  final class Clients<T> {
    final Map<Long, T> acknowledged = new ConcurrentHashMap<>();
    /** Requests that got no answer at all (the connection closed under them): kept or not, the client cannot know. */
    final Map<Long, T> unanswered = new ConcurrentHashMap<>();
    final AtomicLong sent = new AtomicLong();
    final AtomicInteger refusedWithHint = new AtomicInteger();
    final AtomicInteger refusedWithoutHint = new AtomicInteger();
    final AtomicInteger otherFailures = new AtomicInteger();
    final AtomicBoolean go = new AtomicBoolean(true);
    final List<Thread> threads = new ArrayList<>();

    /** Request numbers continue from {@code firstRequest}, so two loads against one gateway never share a trace. */
    Clients(Signal signal, Requests<T> requests) {
      this(signal, requests, 0);
    }

    @SuppressWarnings("unchecked")
    Clients(Signal signal, Requests<T> requests, long firstRequest) {
      sent.set(firstRequest);
      for (int t = 0; t < 3; t++) {
        boolean overGrpc = t == 2;
        Thread thread = new Thread(() -> {
          try (RawGrpc raw = overGrpc ? new RawGrpc(vertx, grpc) : null) {
            while (go.get()) {
              long n = sent.incrementAndGet();
              T content = (T) new ArrayList<>();
              byte[] body = requests.build(n, content);
              int outcome = overGrpc ? sendGrpc(raw, signal, body) : sendHttp(signal, body);
              switch (outcome) {
                case 0 -> acknowledged.put(n, content);
                case 1 -> refusedWithHint.incrementAndGet();
                case 2 -> refusedWithoutHint.incrementAndGet();
                default -> {
                  otherFailures.incrementAndGet();
                  unanswered.put(n, content);
                }
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
    }

    void stop() throws InterruptedException {
      go.set(false);
      for (Thread t : threads) {
        t.join();
      }
    }
  }

  /** 0 acknowledged, 1 refused with a retry hint, 2 refused without one, 3 anything else. */
  int sendHttp(Signal signal, byte[] body) {
    try {
      HttpResponse<Void> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http
          + signal.httpPath())).timeout(Duration.ofSeconds(20)).header("Content-Type", "application/x-protobuf")
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

  int sendGrpc(RawGrpc raw, Signal signal, byte[] body) {
    try {
      RawGrpc.Result r = raw.export(signal, Buffer.buffer(body), "identity");
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
