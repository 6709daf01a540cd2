package dev.telemetry.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Http;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Ports;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three gateway processes (the shipped jar) forming a cluster on loopback, a recording OTLP backend, and clients that
 * send each trace's spans to different members while keeping a ledger of what was acknowledged. A trace is kept by
 * the status_code policy when one span (the last one sent) has status ERROR, so a trace decided on a member that saw
 * only some of its spans would lose the others: "every acknowledged span of every error trace arrives exactly once,
 * and no span of other traces" checks that each trace was decided whole, on one member. The scenarios are in
 * {@link ClusterIT} and {@link ClusterReplicationIT}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ClusterHarness {
  static final Path ROOT = Path.of(System.getProperty("gateway.repo.root", ".."));
  static final Path JAR = Path.of(System.getProperty("gateway.jar", "target/telemetry-gateway.jar"));
  static final int SPANS_PER_TRACE = 4;
  // forwarding.batch_timeout is 300 ms here (5 ms by default): a forwarder that acknowledged spans before their
  // owner had them would lose up to that much traffic at the SIGKILL, which the last scenario would see.
  static final int TRACES_PER_REQUEST = 20;
  static final Duration DECISION_WAIT = Duration.ofSeconds(1);
  /** cluster.failure_timeout: short, for quick tests (see {@link #failureTimeout}). */
  static final Duration FAILURE_TIMEOUT = Duration.ofSeconds(4);

  /** The members' failure timeout; a subclass whose scenarios starve the machine more may want a longer one. */
  Duration failureTimeout() {
    return FAILURE_TIMEOUT;
  }
  static final String TOKEN = "cluster-it-admin-token-0123456789";
  static final String INITIAL_ROUTES = """
      {"rules": [{"id": "drop-noise", "match": {"signal": "traces", "resource": {"service.name": "svc-noise"}},
                  "drop": true}]}""";

  @TempDir
  static Path tmp;

  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(2)).build();
  final Node[] nodes = new Node[3];
  final AtomicLong traceCounter = new AtomicLong();
  Vertx vertx;
  OtlpSink sink;

  /** One member: its ports and process. */
  final class Node {
    final int index;
    final int http = Ports.free();
    final int grpc = Ports.free();
    final int admin = Ports.free();
    // Fixed, not 0: a port the OS picks could be one handed out (not yet bound) for another member.
    final int eventBus = Ports.free();
    final int hazelcast;
    /** The address all its servers listen on (loopback, or its network namespace's). */
    final String host;
    Process process;

    Node(int index, int hazelcast) {
      this.index = index;
      this.hazelcast = hazelcast;
      this.host = memberHost(index);
    }

    void start(String transport) throws Exception {
      Path config = tmp.resolve("node" + index + ".json");
      Path routes = tmp.resolve("routes" + index + ".json");
      if (!Files.exists(routes)) {
        Files.writeString(routes, INITIAL_ROUTES);
      }
      String members = "\"" + nodes[0].host + ":" + nodes[0].hazelcast + "\", \"" + nodes[1].host + ":"
          + nodes[1].hazelcast + "\", \"" + nodes[2].host + ":" + nodes[2].hazelcast + "\"";
      Files.writeString(config, """
          {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "HOST_:%d"},
                                  "http": {"endpoint": "HOST_:%d"}}},
           "processors": {"sampling": {"type": "tail_sampling", "decision_wait": "%dms",
             "policies": [{"name": "errors", "type": "status_code", "status_codes": ["ERROR"]}]}},
           "exporters": {"jaeger": {"type": "otlp", "endpoint": "http://SINKHOST_:%d", "compression": "none",
             "batch": {"max_items": 500, "timeout": "5ms"}}},
           "pipelines": {"traces": {"receivers": ["otlp"], "processors": ["sampling"], "exporters": ["jaeger"]}},
           "admin": {"endpoint": "HOST_:%d", "token": "%s"},
           "routing": {"file": "%s", "watch_interval": "0s"},
           "shutdown_timeout": "10s",
           "cluster": {"name": "it-%s", "bind": "HOST_:%d", "event_bus": "HOST_:%d", "failure_timeout": "%ds",
             "replication_factor": %d, "min_members": MIN_, "discovery": {"type": "tcp", "members": [%s]},
             "forwarding": {"transport": "%s", "receiver": "otlp", "token": "cluster-it-token-0123456789",
                            "batch_timeout": "300ms"}}}"""
          .formatted(grpc, http, DECISION_WAIT.toMillis(), sink.port(), admin, TOKEN, routes, tmp.getFileName(),
              hazelcast, eventBus,
              failureTimeout().toSeconds(), replicationFactor(), members, transport)
          .replace("SINKHOST_", sinkHost()).replace("MIN_", Integer.toString(minMembers())).replace("HOST_", host));
      List<String> cmd = new ArrayList<>(launcher(index));
      cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
          "-XX:+ExitOnOutOfMemoryError", "-jar", JAR.toAbsolutePath().toString(), "--config", config.toString()));
      process = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(tmp.resolve("node" + index + ".log").toFile())).start();
    }

    JsonObject cluster() {
      try {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + admin
            + "/cluster")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 ? new JsonObject(r.body()) : null;
      } catch (Exception e) {
        return null;
      }
    }

    int ringSize() {
      JsonObject c = cluster();
      return c == null ? -1 : c.getJsonArray("ring").size();
    }

    JsonObject routes() {
      try {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + admin
            + "/api/v1/routes")).header("Authorization", "Bearer " + TOKEN).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200 ? new JsonObject(r.body()) : null;
      } catch (Exception e) {
        return null;
      }
    }

    double metric(String name) {
      return Http.metric(client, host, admin, name, "");
    }

    boolean post(byte[] body) {
      try {
        return client.send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + http + "/v1/traces"))
            .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/x-protobuf")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.discarding())
            .statusCode() == 200;
      } catch (Exception e) {
        return false;
      }
    }

    void log(String what) throws Exception {
      System.out.println("---- node" + index + " log (" + what + ") ----");
      List<String> lines = Files.readAllLines(tmp.resolve("node" + index + ".log"));
      lines.subList(Math.max(0, lines.size() - 40), lines.size()).forEach(System.out::println);
    }
  }

  /** What the clients know: per trace, when each span was acknowledged and by which member. */
  static final class Ledger {
    final Map<ByteString, List<Long>> ackedAt = new ConcurrentHashMap<>();
    final Map<ByteString, Set<Integer>> ackedBy = new ConcurrentHashMap<>();
    /** When a client first sent a span of the trace (its first span reaches the owner from then on). */
    final Map<ByteString, Long> firstSentAt = new ConcurrentHashMap<>();
    final Set<ByteString> errorTraces = ConcurrentHashMap.newKeySet();
    /** Traces in a request that failed on one member (it may have taken it) and was then sent to another. */
    final Set<ByteString> retried = ConcurrentHashMap.newKeySet();
    final AtomicInteger refusedBySurvivors = new AtomicInteger();

    void acked(List<ByteString> traces, int node) {
      long now = System.nanoTime();
      for (ByteString t : traces) {
        ackedAt.computeIfAbsent(t, k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(now);
        ackedBy.computeIfAbsent(t, k -> ConcurrentHashMap.newKeySet()).add(node);
      }
    }

    /**
     * True when more than decision_wait passed between the trace's first span being sent and its last being
     * acknowledged: its owner may rightly have decided it before the last one came (a client request held up by a
     * member that had just died, or by a copy for one, until the cluster noticed).
     */
    boolean straggled(ByteString t) {
      List<Long> at = ackedAt.getOrDefault(t, List.of());
      Long sent = firstSentAt.get(t);
      synchronized (at) {
        return !at.isEmpty() && sent != null && java.util.Collections.max(at) - sent > DECISION_WAIT.toNanos();
      }
    }

    /** Error traces with every span acknowledged: these must arrive whole. */
    List<ByteString> expectedKept() {
      return errorTraces.stream().filter(t -> ackedAt.getOrDefault(t, List.of()).size() == SPANS_PER_TRACE).toList();
    }
  }

  @BeforeAll
  void startCluster() throws Exception {
    setUpNetwork();
    vertx = Vertx.vertx();
    sink = new OtlpSink(vertx, Ports.free()).host(sinkHost()).start();
    for (int i = 0; i < 3; i++) {
      nodes[i] = new Node(i, Ports.free());
    }
    for (Node n : nodes) {
      n.start(transport());
    }
    awaitRing(List.of(nodes[0], nodes[1], nodes[2]), 3);
    warmUp();
  }

  /** Per member, the traces decided and the spans that came after their trace's decision, once warmed up. */
  final double[] decidedBefore = new double[3];
  final double[] lateBefore = new double[3];

  /**
   * The scenarios check a steady cluster. Right after the ring forms, each member's first forward to each peer
   * opens a connection and runs cold code; on a loaded 2-core machine that can take longer than decision_wait, and
   * a trace whose last span is that late is (correctly) decided without it. So some traffic goes through every
   * member pair first, and what it leaves in the counters is subtracted.
   */
  void warmUp() {
    send(new Ledger(), List.of(nodes), 10, new AtomicBoolean(true));
    awaitQuiet();
    for (Node n : nodes) {
      decidedBefore[n.index] = n.metric("gateway_processor_tail_sampling_traces_total");
      lateBefore[n.index] = n.metric("gateway_processor_tail_sampling_late_spans_total");
    }
  }

  /** How members forward spans to each other (ClusterOtlpGrpcIT runs the same scenarios over OTLP/gRPC). */
  String transport() {
    return "event_bus";
  }

  /** Before anything starts: a subclass that runs members in their own network namespaces creates them here. */
  void setUpNetwork() throws Exception {
  }

  /** After everything stopped. */
  void tearDownNetwork() throws Exception {
  }

  /** Where member {@code index} listens (all its servers and its cluster ports). */
  String memberHost(int index) {
    return "127.0.0.1";
  }

  /** Where the test's backend listens (reachable from every member). */
  String sinkHost() {
    return "127.0.0.1";
  }

  /** A command prefix for member {@code index}'s process (e.g. {@code ip netns exec NAME}). */
  List<String> launcher(int index) {
    return List.of();
  }

  /** cluster.min_members: below it a member refuses traces (1: never). */
  int minMembers() {
    return 1;
  }

  /** Members holding each undecided trace (cluster.replication_factor). */
  int replicationFactor() {
    return 2;
  }

  void awaitRing(List<Node> members, int size) throws Exception {
    awaitRings("every member sees a ring of " + size, Duration.ofSeconds(90), members, size);
  }

  /**
   * Waits until every one of {@code members} sees a ring of {@code size}; on a timeout prints what each member of
   * the cluster sees and the end of its log (a CI failure has nothing else to go by).
   */
  void awaitRings(String what, Duration timeout, List<Node> members, int size) throws Exception {
    long start = System.nanoTime();
    List<String> timeline = new ArrayList<>(); // each change of what the members answer, and when
    try {
      Await.until(what, timeout, () -> {
        List<Integer> sizes = members.stream().map(Node::ringSize).toList();
        String now = sizes.toString();
        if (timeline.isEmpty() || !timeline.get(timeline.size() - 1).endsWith(now)) {
          timeline.add(String.format("%.1f s: %s", (System.nanoTime() - start) / 1e9, now));
        }
        return sizes.stream().allMatch(x -> x == size);
      });
      if (System.nanoTime() - start > failureTimeout().toNanos() * 3) {
        System.out.println(what + ": slow; ring sizes seen (-1: no answer): " + timeline);
      }
    } catch (AssertionError e) {
      System.out.println(what + ": ring sizes seen (-1: no answer): " + timeline);
      for (Node n : nodes) {
        System.out.println("node" + n.index + " (" + (n.process.isAlive() ? "alive" : "exited") + ") sees: "
            + n.cluster());
        n.log(what + ": timed out");
      }
      throw e;
    }
  }

  @AfterAll
  void stopCluster() throws Exception {
    for (Node n : nodes) {
      if (n != null && n.process != null) {
        n.process.destroyForcibly();
        n.process.waitFor(20, TimeUnit.SECONDS);
      }
    }
    String keep = System.getProperty("cluster.it.logs"); // a directory to keep the members' logs in
    if (keep != null) {
      Path dir = Path.of(keep, getClass().getSimpleName() + "-" + System.currentTimeMillis());
      Files.createDirectories(dir);
      for (int i = 0; i < nodes.length; i++) {
        Path log = tmp.resolve("node" + i + ".log");
        if (Files.exists(log)) {
          Files.copy(log, dir.resolve("node" + i + ".log"));
        }
      }
    }
    if (sink != null) {
      sink.close();
    }
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
    tearDownNetwork();
  }

  /**
   * Sends {@code batches} rounds of TRACES_PER_REQUEST traces; span k of a round goes to member (round + k) % live,
   * so each trace's spans land on different members. A refused request is retried on the next live member, as a
   * load balancer would; every other trace has an error on its last span.
   */
  void send(Ledger ledger, List<Node> live, int batches, AtomicBoolean go) {
    for (int b = 0; b < batches && go.get(); b++) {
      List<ByteString> ids = new ArrayList<>(TRACES_PER_REQUEST);
      for (int t = 0; t < TRACES_PER_REQUEST; t++) {
        long n = traceCounter.incrementAndGet();
        ByteString id = ByteString.copyFrom(ByteBuffer.allocate(16).putLong(0x5eed_0000_0000_0000L ^ (n * 0x9E3779B97F4A7C15L)).putLong(n).array());
        ids.add(id);
        if (n % 2 == 0) {
          ledger.errorTraces.add(id);
        }
      }
      long sentAt = System.nanoTime();
      for (ByteString id : ids) {
        ledger.firstSentAt.put(id, sentAt);
      }
      for (int k = 0; k < SPANS_PER_TRACE; k++) {
        ScopeSpans.Builder ss = ScopeSpans.newBuilder();
        for (ByteString id : ids) {
          long n = id.asReadOnlyByteBuffer().getLong(8);
          boolean error = k == SPANS_PER_TRACE - 1 && n % 2 == 0;
          ss.addSpans(Span.newBuilder().setTraceId(id).setSpanId(ByteString.copyFrom(ByteBuffer.allocate(8)
                  .putLong(n * SPANS_PER_TRACE + k).array())).setName("op-" + k)
              .setStartTimeUnixNano(1_000_000_000L * k).setEndTimeUnixNano(1_000_000_000L * k + 5_000)
              .setStatus(Status.newBuilder().setCode(error ? Status.StatusCode.STATUS_CODE_ERROR
                  : Status.StatusCode.STATUS_CODE_OK)));
        }
        byte[] body = ExportTraceServiceRequest.newBuilder().addResourceSpans(ResourceSpans.newBuilder()
            .setResource(Resource.newBuilder().addAttributes(KeyValue.newBuilder().setKey("service.name")
                .setValue(AnyValue.newBuilder().setStringValue("svc-" + k)))).addScopeSpans(ss)).build()
            .toByteArray();
        for (int attempt = 0; attempt < live.size() * 3; attempt++) {
          Node target = live.get((b + k + attempt) % live.size());
          if (target.post(body)) {
            ledger.acked(ids, target.index);
            if (attempt > 0) {
              ledger.retried.addAll(ids);
            }
            break;
          }
          if (target.process.isAlive()) {
            ledger.refusedBySurvivors.incrementAndGet();
          }
          sleep(20);
        }
      }
    }
  }

  /** Per trace ID, the span IDs the backend received (a list: duplicates show). */
  Map<ByteString, List<ByteString>> delivered() {
    Map<ByteString, List<ByteString>> out = new HashMap<>();
    for (Span s : sink.spans()) {
      out.computeIfAbsent(s.getTraceId(), k -> new ArrayList<>()).add(s.getSpanId());
    }
    return out;
  }

  void awaitQuiet() {
    int[] last = {-1};
    List<Integer> seen = new ArrayList<>();
    Await.until(() -> "the backend stops receiving (spans received at each look: " + seen + ")",
        Duration.ofSeconds(60), () -> {
          sleep(DECISION_WAIT.toMillis() + 1000);
          int now = sink.spans().size();
          seen.add(now);
          boolean quiet = now == last[0];
          last[0] = now;
          return quiet;
        });
  }

  record Outcome(int expected, int whole, int partial, int missing, int duplicated, int unexpected,
                 List<ByteString> lost, List<ByteString> duplicates) {
  }

  Outcome check(Ledger ledger) {
    Map<ByteString, List<ByteString>> got = delivered();
    int whole = 0;
    int partial = 0;
    int missing = 0;
    int duplicated = 0;
    List<ByteString> lost = new ArrayList<>();
    List<ByteString> duplicates = new ArrayList<>();
    List<ByteString> expected = ledger.expectedKept();
    for (ByteString t : expected) {
      List<ByteString> spans = got.getOrDefault(t, List.of());
      long distinct = spans.stream().distinct().count();
      if (spans.size() > distinct) {
        duplicated++;
        duplicates.add(t);
      }
      if (distinct == SPANS_PER_TRACE) {
        whole++;
      } else {
        lost.add(t);
        if (distinct == 0) {
          missing++;
        } else {
          partial++;
        }
      }
    }
    int unexpected = 0;
    for (ByteString t : got.keySet()) {
      if (ledger.ackedAt.containsKey(t) && !ledger.errorTraces.contains(t)) {
        unexpected++;
      }
    }
    Outcome o = new Outcome(expected.size(), whole, partial, missing, duplicated, unexpected, lost, duplicates);
    System.out.println("cluster outcome: " + o.expected() + " error traces acknowledged whole, " + o.whole()
        + " delivered whole, " + o.partial() + " partial, " + o.missing() + " missing, " + o.duplicated()
        + " with duplicate spans, " + o.unexpected() + " non-error traces delivered");
    return o;
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Two client threads sending to all members until {@code go} turns false; returns once load is flowing. */
  List<Thread> load(Ledger ledger, AtomicBoolean go) {
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Thread t = new Thread(() -> send(ledger, List.of(nodes), 100_000, go), "load-" + i);
      t.start();
      threads.add(t);
    }
    Await.until("load running", Duration.ofSeconds(30), () -> ledger.ackedAt.size() > 2000);
    return threads;
  }

  static void stop(List<Thread> load, AtomicBoolean go) throws InterruptedException {
    go.set(false);
    for (Thread t : load) {
      t.join();
    }
  }

  /**
   * Traces whose first span was sent while membership was changing, between {@code from} and {@code to}
   * (System.nanoTime): decided shortly before a member became unreachable (a kept trace is announced to the replica
   * holders only DecisionAnnouncer.KEPT_DELAY after its decision, so both sides may decide it — at least once), or
   * with spans on both sides of a ring change.
   */
  static java.util.function.Predicate<ByteString> firstSentAround(Ledger ledger, long from, long to) {
    long before = DECISION_WAIT.toNanos() + java.util.concurrent.TimeUnit.SECONDS.toNanos(3);
    long after = DECISION_WAIT.toNanos() * 2;
    return t -> {
      Long sent = ledger.firstSentAt.get(t);
      return sent != null && sent >= from - before && sent <= to + after;
    };
  }

  /**
   * Every change of ring any member reports while a scenario runs, with when it was seen (System.nanoTime): besides
   * the ones a scenario causes, a member starved of CPU for longer than the failure timeout (a loaded CI machine:
   * Hazelcast logs a "huge system clock jump") is dropped and merges back on its own, and traces in flight then may
   * be decided on both sides or without some spans — what cluster.md's "Disagreement" describes. One poller per
   * member, so a paused one holds up none of the others.
   */
  final class RingWatch implements AutoCloseable {
    /** When any member's ring changed (System.nanoTime). */
    final List<Long> changes = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** From/to (System.nanoTime) of the times the answering members' rings differed: each decided apart. */
    final List<long[]> disagreements = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Map<Integer, List<String>> views = new HashMap<>();
    private long disagreeingSince = -1;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> pollers = new ArrayList<>();

    RingWatch() {
      watches.add(this);
      for (Node n : nodes) {
        Thread t = new Thread(() -> {
          while (running.get()) {
            JsonObject c = n.cluster();
            seen(n.index, c == null ? null : c.getJsonArray("ring").stream().map(JsonObject.class::cast)
                .map(m -> m.getString("id")).sorted().toList());
            sleep(200);
          }
        }, "ring-watch-" + n.index);
        t.setDaemon(true);
        t.start();
        pollers.add(t);
      }
    }

    /** A member's ring, or null when it did not answer (paused, killed, starting): then it has no say. */
    private synchronized void seen(int node, List<String> ring) {
      long now = System.nanoTime();
      List<String> before = ring == null ? views.remove(node) : views.put(node, ring);
      if (ring != null && before != null && !before.equals(ring)) {
        changes.add(now);
      }
      boolean agree = views.values().stream().distinct().count() <= 1;
      if (!agree && disagreeingSince < 0) {
        disagreeingSince = now;
      } else if (agree && disagreeingSince >= 0) {
        disagreements.add(new long[] {disagreeingSince, now});
        disagreeingSince = -1;
      }
    }

    /**
     * Traces whose first span was sent around a ring change a member went through, or while the members' rings
     * differed (a member dropped by the others and not yet back; members split from each other).
     */
    java.util.function.Predicate<ByteString> inFlightAtAChange(Ledger ledger) {
      List<long[]> apart = new ArrayList<>(disagreements);
      synchronized (this) {
        if (disagreeingSince >= 0) {
          apart.add(new long[] {disagreeingSince, System.nanoTime()});
        }
      }
      return t -> changes.stream().anyMatch(at -> firstSentAround(ledger, at, at).test(t))
          || apart.stream().anyMatch(w -> firstSentAround(ledger, w[0], w[1]).test(t));
    }

    @Override
    public void close() throws InterruptedException {
      if (!running.getAndSet(false)) {
        return;
      }
      for (Thread t : pollers) {
        t.join(10_000);
      }
      System.out.printf("ring changes seen by the members: %d; their rings differed %d time(s), %.1f s in all%n",
          changes.size(), disagreements.size(), disagreements.stream().mapToLong(w -> w[1] - w[0]).sum() / 1e9);
    }
  }

  private final List<RingWatch> watches = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Watches a scenario left open (it failed half-way) stop with it. */
  @org.junit.jupiter.api.AfterEach
  void closeWatches() throws InterruptedException {
    for (RingWatch w : watches) {
      w.close();
    }
    watches.clear();
  }

  /** The ring as every member sees it now. */
  HashRing ringNow() {
    return new HashRing(nodes[0].cluster().getJsonArray("ring").stream().map(JsonObject.class::cast)
        .map(m -> m.getString("id")).toList(), dev.telemetry.gateway.config.ClusterConfig.DEFAULT_VIRTUAL_NODES);
  }

  /** After a fault has healed: one view of the ring everywhere, and traffic through every member arrives whole, once. */
  void assertConvergedAndExact() throws Exception {
    List<List<String>> views = List.of(nodes).stream().map(n -> n.cluster().getJsonArray("ring").stream()
        .map(JsonObject.class::cast).map(m -> m.getString("id")).sorted().toList()).toList();
    assertThat(views).as("every member's ring").allMatch(v -> v.equals(views.get(0)));
    Ledger after = new Ledger();
    send(after, List.of(nodes), 20, new AtomicBoolean(true));
    awaitQuiet();
    Outcome o = check(after);
    assertThat(o.lost()).as("error traces lost or partial once the ring converged").isEmpty();
    assertThat(o.duplicated()).isZero();
    assertThat(o.unexpected()).isZero();
    for (Node n : nodes) {
      assertThat(Http.status(client, "http://" + n.host + ":" + n.admin + "/health/ready")).as("node%d ready", n.index)
          .isEqualTo(200);
    }
  }

  void report(String fault, Outcome o, Ledger ledger, HashRing ring, String member) {
    List<ByteString> itsOwn = o.lost().stream().filter(t -> ring.owner(t).equals(member)).toList();
    double adopted = 0;
    for (Node n : nodes) {
      adopted += n.metric("gateway_cluster_replica_adopted_traces_total");
    }
    System.out.println(fault + ": " + o.lost().size() + " error traces lost or partial of " + o.expected()
        + " (owned by the faulty member: " + itsOwn.size() + ", straggled: "
        + o.lost().stream().filter(ledger::straggled).count() + "); duplicated " + o.duplicated() + " (retried by a "
        + "client: " + o.duplicates().stream().filter(ledger.retried::contains).count() + "); traces taken over "
        + "from replicas so far: " + adopted + "; requests refused by live members: "
        + ledger.refusedBySurvivors.get());
  }

  /** Sends a signal to a member process this test started (by its PID). */
  static void signal(Node n, String sig) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(n.process.pid())).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS) && kill.exitValue() == 0).as("kill -%s %d", sig, n.process.pid())
        .isTrue();
  }
}
