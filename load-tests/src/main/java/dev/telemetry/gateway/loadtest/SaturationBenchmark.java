package dev.telemetry.gateway.loadtest;

import dev.telemetry.gateway.component.Components;
import com.google.protobuf.ByteString;
import dev.telemetry.gateway.Gateway;
import dev.telemetry.gateway.cluster.Cluster;
import java.util.ArrayList;
import java.util.List;
import dev.telemetry.gateway.config.GatewayConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse;
import io.opentelemetry.proto.common.v1.AnyValue;
import io.opentelemetry.proto.common.v1.InstrumentationScope;
import io.opentelemetry.proto.common.v1.KeyValue;
import io.opentelemetry.proto.resource.v1.Resource;
import io.opentelemetry.proto.trace.v1.ResourceSpans;
import io.opentelemetry.proto.trace.v1.ScopeSpans;
import io.opentelemetry.proto.trace.v1.Span;
import io.opentelemetry.proto.trace.v1.Status;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * Finds the highest sustained span rate of the whole gateway with p99 latency under a bound. It starts the gateway
 * in-process from a config template ({{GRPC}}, {{HTTP}}, {{ADMIN}}, {{SINK}} filled with free ports) and an in-process
 * OTLP sink as the backend, then offers pre-encoded requests (realistic traces: several services, 10% errors, 5%
 * slow, PII in attributes) at stepped open-model rates with bounded concurrency, measuring each request's latency
 * with HdrHistogram. Every step is bounded in time; the run is bounded in steps. Loopback only.
 *
 * <pre>java -cp load-tests/target/benchmarks.jar dev.telemetry.gateway.loadtest.SaturationBenchmark \
 *   [--config full-pipeline|passthrough|FILE] [--transport http|grpc] [--p99-ms 5] [--step-seconds 10]
 *   [--start-items 20000] [--max-steps 10] [--in-flight 64] [--spans-per-request 100]
 *   [--nodes 3 --forwarding event_bus|otlp_grpc [--replication 1|2|3]] [--tls true]</pre>
 * With {@code --forwarding}, the gateways form a cluster in this JVM (loopback, one Hazelcast member each) and
 * clients send round-robin over their HTTP receivers, so most spans are forwarded to the member owning their trace.
 * Prints one JSON object per step and a final summary object.
 */
public final class SaturationBenchmark {
  private SaturationBenchmark() {
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new java.util.HashMap<>(Map.of("config", "full-pipeline", "transport", "http",
        "p99-ms", "5", "step-seconds", "10", "start-items", "20000", "max-steps", "10", "in-flight", "64",
        "spans-per-request", "100", "signal", "traces"));
    opt.put("nodes", "1");
    opt.put("forwarding", "none");
    opt.put("replication", "2"); // the gateway's default replication_factor
    for (int i = 0; i + 1 < args.length; i += 2) {
      opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    int sinkPort = freePort();
    int nodeCount = Integer.parseInt(opt.get("nodes"));
    String forwarding = opt.get("forwarding");
    if (nodeCount > 1 && forwarding.equals("none")) {
      throw new IllegalArgumentException("--nodes > 1 needs --forwarding event_bus or otlp_grpc");
    }
    int[] grpcPorts = new int[nodeCount];
    int[] httpPorts = new int[nodeCount];
    int[] hazelcastPorts = new int[nodeCount];
    int[] eventBusPorts = new int[nodeCount];
    int[] adminPorts = new int[nodeCount];
    // Every port up front, the event bus's too: a port picked by the OS for one member could be one handed out
    // (and not yet bound) for another.
    for (int i = 0; i < nodeCount; i++) {
      grpcPorts[i] = freePort();
      httpPorts[i] = freePort();
      hazelcastPorts[i] = freePort();
      eventBusPorts[i] = freePort();
      adminPorts[i] = freePort();
    }
    int grpcPort = grpcPorts[0];
    String template = template(opt.get("config"));
    // --tls true: the receivers serve TLS with a self-signed certificate (what TLS costs the gateway).
    boolean tls = Boolean.parseBoolean(opt.getOrDefault("tls", "false"));
    if (tls) {
      io.vertx.core.net.SelfSignedCertificate cert = io.vertx.core.net.SelfSignedCertificate.create("localhost");
      JsonObject t = new JsonObject(template);
      JsonObject tlsBlock = new JsonObject().put("cert_file", cert.certificatePath()).put("key_file",
          cert.privateKeyPath());
      JsonObject otlp = t.getJsonObject("receivers").getJsonObject("otlp");
      otlp.getJsonObject("grpc").put("tls", tlsBlock);
      otlp.getJsonObject("http").put("tls", tlsBlock);
      template = t.encodePrettily();
    }

    Vertx sinkVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    AtomicLong sinkSpans = new AtomicLong();
    HttpServer sink = startSink(sinkVertx, sinkPort, sinkSpans);
    List<Gateway> gateways = new ArrayList<>();
    List<Vertx> gatewayVertxes = new ArrayList<>();
    for (int i = 0; i < nodeCount; i++) {
      String json = template.replace("{{GRPC}}", "" + grpcPorts[i]).replace("{{HTTP}}", "" + httpPorts[i])
          .replace("{{ADMIN}}", "" + adminPorts[i]).replace("{{SINK}}", "" + sinkPort);
      if (json.contains("{{TMP}}")) { // e.g. a persistent queue's directory
        Path tmp = Files.createTempDirectory("saturation");
        json = json.replace("{{TMP}}", tmp.toString().replace("\\", "/"));
      }
      if (json.contains("{{ROUTES}}")) { // a routed config: its table is the template's companion <name>.routes
        Path routes = Files.createTempFile("saturation-routes", ".json");
        routes.toFile().deleteOnExit();
        String base = opt.get("config").replaceFirst("\\.json$", "");
        Files.writeString(routes, Files.exists(Path.of(base + ".routes.json"))
            ? Files.readString(Path.of(base + ".routes.json")) : template(base + ".routes"));
        json = json.replace("{{ROUTES}}", routes.toString().replace("\\", "/"));
      }
      if (!forwarding.equals("none")) {
        JsonArray members = new JsonArray();
        for (int hz : hazelcastPorts) {
          members.add("127.0.0.1:" + hz);
        }
        json = new JsonObject(json).put("cluster", new JsonObject().put("name", "saturation-" + sinkPort)
            .put("bind", "127.0.0.1:" + hazelcastPorts[i]).put("event_bus", "127.0.0.1:" + eventBusPorts[i])
            .put("discovery", new JsonObject().put("type", "tcp").put("members", members))
            .put("replication_factor", Integer.parseInt(opt.get("replication")))
            .put("forwarding", new JsonObject().put("transport", forwarding).put("receiver", "otlp")
                .put("token", "saturation-benchmark-token"))).encode();
      }
      GatewayConfig config = Components.configLoader().parse(json, Path.of("."));
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      Gateway gateway;
      if (config.clusterConfig().isPresent()) {
        Cluster cluster = Cluster.join(config.clusterConfig().get(),
            ((dev.telemetry.gateway.receiver.otlp.OtlpReceiverConfig) config.receivers().get("otlp")).grpc(),
            new VertxOptions(), null, registry).await(120, TimeUnit.SECONDS);
        clusters.add(cluster);
        gatewayVertxes.add(cluster.vertx());
        gateway = new Gateway(config, cluster.vertx(), registry, cluster);
      } else {
        Vertx v = Vertx.vertx();
        gatewayVertxes.add(v);
        gateway = new Gateway(config, v, registry);
      }
      gateway.start().await(60, TimeUnit.SECONDS);
      gateways.add(gateway);
    }
    long formed = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (clusters.stream().anyMatch(c -> c.membership().ring().members().size() != nodeCount)) {
      if (System.nanoTime() > formed) {
        throw new IllegalStateException("the cluster did not form: " + clusters.stream()
            .map(c -> c.membership().ring().members().size()).toList());
      }
      Thread.sleep(100);
    }
    Vertx clientVertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
    try {
      int spansPerRequest = Integer.parseInt(opt.get("spans-per-request"));
      dev.telemetry.gateway.otlp.Signal signal = dev.telemetry.gateway.otlp.Signal.fromId(opt.get("signal"));
      byte[][] payloads = payloads(signal, spansPerRequest);
      Sender sender = opt.get("transport").equals("grpc") && nodeCount == 1
          ? new GrpcSender(clientVertx, grpcPort, signal, tls)
          : new HttpSender(clientVertx, httpPorts, Integer.parseInt(opt.get("in-flight")), signal, tls);
      double p99Bound = Double.parseDouble(opt.get("p99-ms"));
      int stepSeconds = Integer.parseInt(opt.get("step-seconds"));
      double spansPerSecond = Double.parseDouble(opt.get("start-items"));
      JsonObject warmup = runStep(clientVertx, sender, payloads, spansPerRequest, spansPerSecond, stepSeconds,
          Integer.parseInt(opt.get("in-flight")), sinkSpans);
      System.out.println(warmup.put("warmup", true).encode());
      JsonObject best = null;
      JsonArray steps = new JsonArray();
      for (int step = 0; step < Integer.parseInt(opt.get("max-steps")); step++) {
        JsonObject r = runStep(clientVertx, sender, payloads, spansPerRequest, spansPerSecond, stepSeconds,
            Integer.parseInt(opt.get("in-flight")), sinkSpans);
        r.put("step", step);
        System.out.println(r.encode());
        steps.add(r);
        boolean ok = r.getDouble("p99_ms") <= p99Bound && r.getDouble("refused_ratio") < 0.01
            && r.getLong("errors") == 0 && r.getDouble("achieved_items_per_second") >= 0.95 * spansPerSecond;
        if (!ok) {
          break;
        }
        best = r;
        spansPerSecond *= 1.5;
      }
      JsonObject summary = new JsonObject().put("summary", true).put("signal", signal.id())
          .put("config", opt.get("config"))
          .put("transport", opt.get("transport")).put("p99_bound_ms", p99Bound).put("nodes", nodeCount)
          .put("forwarding", forwarding).put("replication_factor", Integer.parseInt(opt.get("replication")))
          .put("forwarded_spans", forwardedSpans())
          .put("max_sustained_items_per_second", best == null ? 0 : best.getLong("achieved_items_per_second"))
          .put("at", best);
      System.out.println(summary.encode());
    } finally {
      for (Gateway g : gateways) {
        g.stop().await(60, TimeUnit.SECONDS);
      }
      for (Vertx v : gatewayVertxes) {
        v.close().await(30, TimeUnit.SECONDS);
      }
      clientVertx.close().await(30, TimeUnit.SECONDS);
      sink.close().await(10, TimeUnit.SECONDS);
      sinkVertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  static String template(String name) throws IOException {
    if (Files.exists(Path.of(name))) {
      return Files.readString(Path.of(name));
    }
    try (InputStream in = SaturationBenchmark.class.getResourceAsStream("/saturation/" + name + ".json")) {
      if (in == null) {
        throw new IllegalArgumentException("no config " + name + " (a file, or full-pipeline / passthrough)");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static final java.util.Set<Integer> GIVEN = new java.util.HashSet<>();

  /** A free loopback port, never the same one twice (the OS may hand a just-closed port out again). */
  static int freePort() throws IOException {
    while (true) {
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
        if (GIVEN.add(s.getLocalPort())) {
          return s.getLocalPort();
        }
      }
    }
  }

  /** The backend: accepts every trace export and counts its spans. */
  static HttpServer startSink(Vertx vertx, int port, AtomicLong spans) {
    // Jaeger accepts 4 MiB+ messages; Vert.x's default (256 KiB) would reject the gateway's batches.
    GrpcServer grpc = GrpcServer.server(vertx, new io.vertx.grpc.server.GrpcServerOptions()
        .setMaxMessageSize(64L * 1024 * 1024));
    ServiceMethod<ExportTraceServiceRequest, ExportTraceServiceResponse> m = ServiceMethod.server(
        ServiceName.create("opentelemetry.proto.collector.trace.v1.TraceService"), "Export",
        GrpcMessageEncoder.encoder(), GrpcMessageDecoder.decoder(ExportTraceServiceRequest.newBuilder()));
    ServiceMethod<io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest,
        io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse> logs = ServiceMethod.server(
        ServiceName.create("opentelemetry.proto.collector.logs.v1.LogsService"), "Export",
        GrpcMessageEncoder.encoder(), GrpcMessageDecoder.decoder(
            io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest.newBuilder()));
    grpc.callHandler(logs, req -> req.last().onSuccess(r -> {
      spans.addAndGet(dev.telemetry.gateway.otlp.Signal.LOGS.itemCount(r));
      req.response().send(io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse.getDefaultInstance());
    }));
    grpc.callHandler(m, req -> req.last().onSuccess(r -> {
      long n = 0;
      for (ResourceSpans rs : r.getResourceSpansList()) {
        for (ScopeSpans ss : rs.getScopeSpansList()) {
          n += ss.getSpansCount();
        }
      }
      spans.addAndGet(n);
      req.response().send(ExportTraceServiceResponse.getDefaultInstance());
    }));
    return vertx.createHttpServer().requestHandler(grpc).listen(port, "127.0.0.1").await();
  }

  static KeyValue kv(String k, String v) {
    return KeyValue.newBuilder().setKey(k).setValue(AnyValue.newBuilder().setStringValue(v)).build();
  }

  /** The benchmarks' pre-encoded requests of a signal: traces as below, logs and metrics from {@link OtlpPayloads}. */
  static byte[][] payloads(dev.telemetry.gateway.otlp.Signal signal, int itemsPerRequest) {
    return signal == dev.telemetry.gateway.otlp.Signal.TRACES
        ? payloads(2000, itemsPerRequest, new Random(1))
        : OtlpPayloads.encoded(signal, false, 500, itemsPerRequest, 1);
  }

  /** Pre-encoded requests of whole traces (10 spans each) across services; every trace ID is distinct. */
  public static byte[][] payloads(int count, int spansPerRequest, Random r) {
    String[] services = {"frontend", "checkout", "payments", "inventory", "shipping"};
    byte[][] out = new byte[count][];
    for (int p = 0; p < count; p++) {
      ExportTraceServiceRequest.Builder req = ExportTraceServiceRequest.newBuilder();
      int traces = Math.max(1, spansPerRequest / 10);
      ScopeSpans.Builder[] byService = new ScopeSpans.Builder[services.length];
      for (int t = 0; t < traces; t++) {
        byte[] traceId = new byte[16];
        r.nextBytes(traceId);
        boolean error = r.nextInt(10) == 0;
        boolean slow = r.nextInt(20) == 0;
        long start = System.currentTimeMillis() * 1_000_000L;
        boolean modelCall = r.nextInt(20) == 0;
        ByteString previous = null;
        for (int s = 0; s < 10; s++) {
          int svc = s % services.length;
          long duration = (slow && s == 0 ? 1_500 : 5 + r.nextInt(50)) * 1_000_000L;
          // A root server span, then client/server pairs (each server span the child of the client span before it),
          // and a last client span calling out: the service graph pairs 8 of 10 spans.
          boolean server = s == 0 || s % 2 == 0 && s < 9;
          ByteString spanId = ByteString.copyFrom(ByteBuffer.allocate(8).putLong(r.nextLong() | 1).array());
          Span.Builder span = Span.newBuilder().setTraceId(ByteString.copyFrom(traceId)).setSpanId(spanId)
              .setName(s == 0 ? "GET /api/cart" : "call " + services[(s + 1) % services.length])
              .setKind(server ? Span.SpanKind.SPAN_KIND_SERVER : Span.SpanKind.SPAN_KIND_CLIENT)
              .setStartTimeUnixNano(start).setEndTimeUnixNano(start + duration)
              .addAttributes(kv("http.request.method", "GET"))
              .addAttributes(kv("http.route", "/api/cart/{id}"))
              .addAttributes(kv("url.path", "/api/cart/" + r.nextInt(100000)))
              .addAttributes(kv("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"))
              .addAttributes(kv("enduser.id", "user-" + r.nextInt(10000)));
          if (s == 0 && r.nextInt(4) == 0) {
            span.addAttributes(kv("enduser.email", "user" + r.nextInt(10000) + "@example.com"));
          }
          if (server && s > 0) {
            span.setParentSpanId(previous);
          }
          previous = spanId;
          if (s == 9 && modelCall) {
            span.addAttributes(kv("gen_ai.operation.name", "chat")).addAttributes(kv("gen_ai.provider.name", "openai"))
                .addAttributes(kv("gen_ai.request.model", "gpt-4o-mini")).addAttributes(kv("server.address",
                    "api.openai.com")).addAttributes(io.opentelemetry.proto.common.v1.KeyValue.newBuilder()
                    .setKey("gen_ai.usage.input_tokens").setValue(io.opentelemetry.proto.common.v1.AnyValue
                        .newBuilder().setIntValue(1200 + r.nextInt(800))).build());
          }
          if (error && s == 3) {
            span.setStatus(Status.newBuilder().setCode(Status.StatusCode.STATUS_CODE_ERROR).setMessage("timeout"));
          }
          if (byService[svc] == null) {
            byService[svc] = ScopeSpans.newBuilder().setScope(InstrumentationScope.newBuilder()
                .setName("io.opentelemetry.http").setVersion("1.0"));
          }
          byService[svc].addSpans(span);
        }
      }
      for (int i = 0; i < services.length; i++) {
        if (byService[i] != null) {
          req.addResourceSpans(ResourceSpans.newBuilder().setResource(Resource.newBuilder()
              .addAttributes(kv("service.name", services[i])).addAttributes(kv("service.instance.id", "pod-" + i)))
              .addScopeSpans(byService[i]));
        }
      }
      out[p] = req.build().toByteArray();
    }
    return out;
  }

  /** Sends one pre-encoded request; the future carries the outcome: "ok", "refused" or an error. */
  interface Sender {
    Future<String> send(byte[] payload);
  }

  /** Cluster members of the run, for the summary. */
  private static final List<Cluster> clusters = new ArrayList<>();

  /** Spans forwarded between members during the whole run (0 standalone). */
  static long forwardedSpans() {
    long n = 0;
    for (Cluster c : clusters) {
      n += (long) c.forwardedSpans();
    }
    return n;
  }

  /** OTLP/HTTP to the gateway; with several members, requests go round-robin as behind a load balancer. */
  static final class HttpSender implements Sender {
    private final HttpClient client;
    private final int[] ports;
    private final String path;
    private final AtomicInteger next = new AtomicInteger();

    HttpSender(Vertx vertx, int[] ports, int inFlight, dev.telemetry.gateway.otlp.Signal signal, boolean tls) {
      this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setSsl(tls).setTrustAll(tls)
              .setVerifyHost(false), new PoolOptions().setHttp1MaxSize(inFlight));
      this.ports = ports;
      this.path = signal.httpPath();
    }

    @Override
    public Future<String> send(byte[] payload) {
      int port = ports[Math.floorMod(next.getAndIncrement(), ports.length)];
      return client.request(new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
              .setURI(path).putHeader("Content-Type", "application/x-protobuf"))
          .compose(req -> req.send(Buffer.buffer(payload)))
          .compose(resp -> resp.body().map(b -> resp.statusCode() == 200 ? "ok"
              : resp.statusCode() == 429 || resp.statusCode() == 503 ? "refused" : "http " + resp.statusCode()));
    }
  }

  static final class GrpcSender implements Sender {
    private final GrpcClient client;
    private final SocketAddress address;
    private final String method;

    GrpcSender(Vertx vertx, int port, dev.telemetry.gateway.otlp.Signal signal, boolean tls) {
      this.method = signal.grpcService() + "/Export";
      this.client = GrpcClient.client(vertx, new GrpcClientOptions(),
          new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
              .setHttp2MultiplexingLimit(1000).setSsl(tls).setUseAlpn(tls).setTrustAll(tls).setVerifyHost(false));
      this.address = SocketAddress.inetSocketAddress(port, "127.0.0.1");
    }

    @Override
    public Future<String> send(byte[] payload) {
      return client.request(address).compose(req -> {
        req.fullMethodName(method);
        return req.send(Buffer.buffer(payload));
      }).compose(resp -> resp.end().transform(ar -> Future.succeededFuture(
          resp.status() == GrpcStatus.OK ? "ok" : resp.status() == GrpcStatus.RESOURCE_EXHAUSTED
              || resp.status() == GrpcStatus.UNAVAILABLE ? "refused" : "grpc " + resp.status())));
    }

  }

  /** One step: offer requests at a fixed rate (open model, capped in flight) for a fixed time. */
  static JsonObject runStep(Vertx vertx, Sender sender, byte[][] payloads, int spansPerRequest,
                            double spansPerSecond, int seconds, int maxInFlight, AtomicLong sinkSpans)
      throws Exception {
    return runStep(vertx, sender, payloads, spansPerRequest, spansPerSecond, seconds, maxInFlight, sinkSpans,
        (sentAtNanos, latencyMicros) -> { });
  }

  /** Each answered request's send time (System.nanoTime) and latency in µs. */
  interface LatencyListener {
    void answered(long sentAtNanos, long latencyMicros);
  }

  /** As above, handing every answered request to {@code listener} (on the client's event loop). */
  static JsonObject runStep(Vertx vertx, Sender sender, byte[][] payloads, int spansPerRequest,
                            double spansPerSecond, int seconds, int maxInFlight, AtomicLong sinkSpans,
                            LatencyListener listener) throws Exception {
    double requestsPerMs = spansPerSecond / spansPerRequest / 1000.0;
    Recorder latencies = new Recorder(3);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicLong ok = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    AtomicLong errors = new AtomicLong();
    AtomicLong skipped = new AtomicLong();
    AtomicInteger next = new AtomicInteger();
    long sinkBefore = sinkSpans.get();
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long cpuBefore = os.getProcessCpuTime();
    long start = System.nanoTime();
    long end = start + TimeUnit.SECONDS.toNanos(seconds);
    double[] owed = {0};
    long timer = vertx.setPeriodic(1, id -> {
      if (System.nanoTime() >= end) {
        return;
      }
      owed[0] += requestsPerMs;
      while (owed[0] >= 1) {
        owed[0] -= 1;
        if (inFlight.get() >= maxInFlight) {
          skipped.incrementAndGet(); // the open model's arrivals the client could not issue: counted, not hidden
          continue;
        }
        inFlight.incrementAndGet();
        long t0 = System.nanoTime();
        sender.send(payloads[Math.floorMod(next.getAndIncrement(), payloads.length)]).onComplete(ar -> {
          inFlight.decrementAndGet();
          long micros = Math.max(1, (System.nanoTime() - t0) / 1000);
          latencies.recordValue(micros);
          listener.answered(t0, micros);
          if (ar.succeeded() && ar.result().equals("ok")) {
            ok.incrementAndGet();
          } else if (ar.succeeded() && ar.result().equals("refused")) {
            refused.incrementAndGet();
          } else {
            errors.incrementAndGet();
          }
        });
      }
    });
    Thread.sleep(TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime()));
    vertx.cancelTimer(timer);
    long drainUntil = System.currentTimeMillis() + 10_000;
    while (inFlight.get() > 0 && System.currentTimeMillis() < drainUntil) {
      Thread.sleep(5);
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    double cpu = (os.getProcessCpuTime() - cpuBefore) / 1e9 / elapsed;
    var h = latencies.getIntervalHistogram();
    long sent = ok.get() + refused.get() + errors.get();
    Runtime rt = Runtime.getRuntime();
    return new JsonObject()
        .put("offered_items_per_second", Math.round(spansPerSecond))
        .put("achieved_items_per_second", Math.round(ok.get() * spansPerRequest / elapsed))
        .put("requests", sent).put("refused_ratio", sent == 0 ? 0 : (double) refused.get() / sent)
        .put("errors", errors.get()).put("not_issued_in_flight_cap", skipped.get())
        .put("p50_ms", h.getValueAtPercentile(50) / 1000.0).put("p99_ms", h.getValueAtPercentile(99) / 1000.0)
        .put("max_ms", h.getMaxValue() / 1000.0)
        .put("sink_items_per_second", Math.round((sinkSpans.get() - sinkBefore) / elapsed))
        .put("cpu_cores_used", Math.round(cpu * 100) / 100.0)
        .put("heap_used_mib", (rt.totalMemory() - rt.freeMemory()) >> 20);
  }
}
