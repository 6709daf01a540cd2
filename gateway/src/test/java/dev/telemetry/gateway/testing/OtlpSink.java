package dev.telemetry.gateway.testing;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import dev.telemetry.gateway.otlp.Signal;
import io.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
import io.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.proto.trace.v1.Span;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * An in-process OTLP/gRPC backend standing in for Jaeger: it decodes the three Export services with the official
 * OTLP protos, records what it received (and with which headers and grpc-encoding), and answers as the test scripts
 * it: OK, a gRPC status (optionally with RetryInfo), or no answer at all (a stalled backend).
 */
public final class OtlpSink implements AutoCloseable {

  /** What to answer to one call; {@code null} status means OK. */
  public record Reply(GrpcStatus status, Long retryDelayMillis, boolean stall) {
    public static final Reply OK = new Reply(null, null, false);
    public static final Reply STALL = new Reply(null, null, true);

    public static Reply status(GrpcStatus s) {
      return new Reply(s, null, false);
    }

    public static Reply retryAfter(GrpcStatus s, long millis) {
      return new Reply(s, millis, false);
    }
  }

  private final Vertx vertx;
  private final int port;
  private final Map<Signal, List<Message>> received = new ConcurrentHashMap<>();
  private final List<String> encodings = new CopyOnWriteArrayList<>();
  private final List<Map<String, String>> headers = new CopyOnWriteArrayList<>();
  private final AtomicInteger calls = new AtomicInteger();
  private record Stalled(Signal signal, GrpcServerRequest<Message, Message> req, Message msg) {
  }

  private final List<Stalled> stalled = new CopyOnWriteArrayList<>();
  private volatile Function<Integer, Reply> script = n -> Reply.OK;
  private HttpServer server;

  public OtlpSink(Vertx vertx, int port) {
    this.vertx = vertx;
    this.port = port;
    for (Signal s : Signal.values()) {
      received.put(s, new CopyOnWriteArrayList<>());
    }
  }

  private HttpServerOptions tlsOptions;
  private String host = "127.0.0.1";

  /** Listens on {@code host} instead of 127.0.0.1 (call before start), e.g. a test network's bridge address. */
  public OtlpSink host(String host) {
    this.host = host;
    return this;
  }

  /** Serves TLS with this certificate; with {@code clientCa}, mutual TLS (call before start). */
  public OtlpSink tls(java.nio.file.Path cert, java.nio.file.Path key, java.nio.file.Path clientCa) {
    tlsOptions = new HttpServerOptions().setSsl(true).setUseAlpn(true).setKeyCertOptions(
        new io.vertx.core.net.PemKeyCertOptions().setCertPath(cert.toString()).setKeyPath(key.toString()));
    if (clientCa != null) {
      tlsOptions.setTrustOptions(new io.vertx.core.net.PemTrustOptions().addCertPath(clientCa.toString()))
          .setClientAuth(io.vertx.core.http.ClientAuth.REQUIRED);
    }
    return this;
  }

  /** The client certificates' subjects of the calls received over mutual TLS. */
  public final List<String> clientSubjects = new CopyOnWriteArrayList<>();

  public OtlpSink start() throws Exception {
    // 16 MiB like a real backend would accept (the gRPC default, 256 KiB, is smaller than some tests' requests).
    GrpcServer grpc = GrpcServer.server(vertx, new io.vertx.grpc.server.GrpcServerOptions().setMaxMessageSize(16 << 20));
    for (Signal signal : Signal.values()) {
      ServiceMethod<Message, Message> m = ServiceMethod.server(ServiceName.create(signal.grpcService()), "Export",
          GrpcMessageEncoder.encoder(), GrpcMessageDecoder.decoder(signal.emptyRequest()));
      grpc.callHandler(m, req -> {
        encodings.add(req.encoding());
        Map<String, String> h = new ConcurrentHashMap<>();
        req.headers().forEach(e -> h.put(e.getKey().toLowerCase(), e.getValue()));
        headers.add(h);
        if (req.connection().isSsl()) {
          try {
            clientSubjects.add(((java.security.cert.X509Certificate) req.connection().sslSession()
                .getPeerCertificates()[0]).getSubjectX500Principal().getName());
          } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            clientSubjects.add("none");
          }
        }
        req.last().onSuccess(msg -> answer(signal, req, msg));
      });
    }
    HttpServerOptions options = tlsOptions != null ? tlsOptions : new HttpServerOptions();
    server = vertx.createHttpServer(options.setHost(host).setPort(port)).requestHandler(grpc);
    server.listen().await(10, TimeUnit.SECONDS);
    return this;
  }

  private void answer(Signal signal, GrpcServerRequest<Message, Message> req, Message msg) {
    Reply r = script.apply(calls.incrementAndGet());
    if (r.stall()) {
      stalled.add(new Stalled(signal, req, msg));
      return;
    }
    if (r.status() == null) {
      received.get(signal).add(msg);
      req.response().send(signal.emptyResponse());
      return;
    }
    if (r.retryDelayMillis() != null) {
      Status details = Status.newBuilder().setCode(r.status().code).setMessage("scripted")
          .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(com.google.protobuf.Duration.newBuilder()
              .setSeconds(r.retryDelayMillis() / 1000).setNanos((int) (r.retryDelayMillis() % 1000) * 1_000_000))
              .build())).build();
      req.response().trailers().set("grpc-status-details-bin",
          Base64.getEncoder().withoutPadding().encodeToString(details.toByteArray()));
    }
    req.response().status(r.status()).statusMessage("scripted " + r.status()).end();
  }

  /** Sets how call number n (1-based, counted over all signals) is answered. */
  public OtlpSink script(Function<Integer, Reply> script) {
    this.script = script;
    return this;
  }

  /** Answers every stalled call with OK (recording its data) and stops stalling. */
  public void releaseStalled() {
    script = n -> Reply.OK;
    List<Stalled> toRelease = new ArrayList<>(stalled);
    stalled.clear();
    for (Stalled st : toRelease) {
      vertx.runOnContext(v -> {
        received.get(st.signal()).add(st.msg());
        st.req().response().send(st.signal().emptyResponse());
      });
    }
  }

  public int stalledCalls() {
    return stalled.size();
  }

  public int port() {
    return port;
  }

  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  public int calls() {
    return calls.get();
  }

  public List<String> encodings() {
    return encodings;
  }

  public List<Map<String, String>> headers() {
    return headers;
  }

  public List<Message> requests(Signal s) {
    return received.get(s);
  }

  public List<Span> spans() {
    List<Span> out = new ArrayList<>();
    for (Message m : received.get(Signal.TRACES)) {
      ((ExportTraceServiceRequest) m).getResourceSpansList()
          .forEach(rs -> rs.getScopeSpansList().forEach(ss -> out.addAll(ss.getSpansList())));
    }
    return out;
  }

  public int items(Signal s) {
    int n = 0;
    for (Message m : received.get(s)) {
      n += s.itemCount(m);
    }
    return n;
  }

  /** The string bodies of every log record received, in arrival order. */
  public List<String> logBodies() {
    List<String> out = new ArrayList<>();
    logRequests().forEach(r -> r.getResourceLogsList().forEach(rl -> rl.getScopeLogsList().forEach(sl ->
        sl.getLogRecordsList().forEach(lr -> out.add(lr.getBody().getStringValue())))));
    return out;
  }

  public List<ExportTraceServiceRequest> traceRequests() {
    return received.get(Signal.TRACES).stream().map(ExportTraceServiceRequest.class::cast).toList();
  }

  public List<ExportMetricsServiceRequest> metricRequests() {
    return received.get(Signal.METRICS).stream().map(ExportMetricsServiceRequest.class::cast).toList();
  }

  public List<ExportLogsServiceRequest> logRequests() {
    return received.get(Signal.LOGS).stream().map(ExportLogsServiceRequest.class::cast).toList();
  }

  @Override
  public void close() throws Exception {
    if (server != null) {
      server.close().await(10, TimeUnit.SECONDS);
    }
  }
}
