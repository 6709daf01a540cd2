package dev.telemetry.gateway.receiver.otlp;

import dev.telemetry.gateway.backpressure.HeapLedger;
import dev.telemetry.gateway.config.HostPort;
import dev.telemetry.gateway.receiver.otlp.OtlpReceiverConfig;
import dev.telemetry.gateway.pipeline.TelemetryConsumer;
import dev.telemetry.gateway.receiver.Receiver;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * The OTLP receiver: its gRPC and HTTP listeners run in one verticle instance per event loop, all sharing the
 * ports (Vert.x spreads connections across them), so ingest uses every core without any shared lock.
 */
public final class OtlpReceiver implements Receiver {
  private static final Logger LOG = Logger.getLogger(OtlpReceiver.class.getName());

  /** How long requests in flight at a stop may take to be answered before their connections are closed. */
  static final long IN_FLIGHT_GRACE_SECONDS = 5;

  private final Vertx vertx;
  private final OtlpReceiverConfig config;
  private final OtlpIngest ingest;
  private final int instances;
  private final MeterRegistry registry;
  private String deploymentId;
  private dev.telemetry.gateway.security.tls.ServerTls grpcTls;
  private dev.telemetry.gateway.security.tls.ServerTls httpTls;
  private final ConnectionGuard grpcGuard;
  private final ConnectionGuard httpGuard;

  public OtlpReceiver(Vertx vertx, OtlpReceiverConfig config, TelemetryConsumer consumer, MeterRegistry registry,
                      int instances, HeapLedger heap) {
    this.vertx = vertx;
    this.config = config;
    this.ingest = new OtlpIngest(config.name(), consumer, new ReceiverMetrics(registry, config.name()), heap);
    this.instances = instances;
    this.registry = registry;
    this.grpcGuard = config.grpc() == null ? null
        : new ConnectionGuard(vertx, config.limits(), registry, config.name(), "grpc");
    this.httpGuard = config.http() == null ? null
        : new ConnectionGuard(vertx, config.limits(), registry, config.name(), "http");
  }

  @Override
  public Future<Void> start() {
    // The TLS files are read (and checked) before anything listens: a bad file fails the start with its name.
    return vertx.executeBlocking(() -> {
      if (config.grpcTls() != null) {
        grpcTls = new dev.telemetry.gateway.security.tls.ServerTls(config.name() + "/grpc", config.grpcTls(),
            registry);
      }
      if (config.httpTls() != null) {
        httpTls = new dev.telemetry.gateway.security.tls.ServerTls(config.name() + "/http", config.httpTls(),
            registry);
      }
      return null;
    }, false).compose(v -> vertx.deployVerticle(() -> new Listeners(),
            new DeploymentOptions().setInstances(instances)))
        .onSuccess(id -> {
          deploymentId = id;
          if (grpcTls != null) {
            grpcTls.watch(vertx);
          }
          if (httpTls != null) {
            httpTls.watch(vertx);
          }
          LOG.info("receiver " + config.name() + " listening: grpc=" + config.grpc() + (grpcTls != null ? " (TLS)" : "")
              + " http=" + config.http() + (httpTls != null ? " (TLS)" : ""));
        })
        .mapEmpty();
  }

  /** Synthetic requests sent through the HTTP path before binding (see {@link ReceiverWarmup}). */
  static final int WARMUP_REQUESTS = 200;

  @Override
  public Future<Void> warmUp() {
    if (config.http() == null) {
      return Future.succeededFuture();
    }
    long t0 = System.nanoTime();
    return ReceiverWarmup.once(config, WARMUP_REQUESTS).transform(ar -> {
      if (ar.succeeded() && ar.result() < 0) {
        LOG.fine(() -> "receiver " + config.name() + ": its HTTP path was warmed by an earlier start");
      } else if (ar.succeeded()) {
        LOG.fine(() -> "receiver " + config.name() + ": " + ar.result() + " of " + WARMUP_REQUESTS
            + " warm-up requests answered in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
      } else {
        LOG.log(java.util.logging.Level.WARNING, "receiver " + config.name() + ": warm-up failed (its first "
            + "requests will be slower)", ar.cause());
      }
      return Future.succeededFuture();
    });
  }

  @Override
  public Future<Void> stop() {
    if (grpcTls != null) {
      grpcTls.stop(vertx);
    }
    if (httpTls != null) {
      httpTls.stop(vertx);
    }
    return deploymentId == null ? Future.succeededFuture() : vertx.undeploy(deploymentId);
  }

  /** For tests and SIGHUP: reads the TLS files now; true when a changed pair was installed. */
  public Future<Boolean> reloadTls() {
    List<Future<Boolean>> all = new ArrayList<>();
    for (var t : java.util.Arrays.asList(grpcTls, httpTls)) {
      if (t != null) {
        all.add(vertx.executeBlocking(t::reloadNow, true).compose(f -> f));
      }
    }
    return Future.all(all).map(c -> all.stream().anyMatch(f -> Boolean.TRUE.equals(f.result())));
  }

  /**
   * Request bodies are inflated by the receivers themselves, within max_decompressed_bytes. OTLP/HTTP responses are
   * compressed when the client accepts gzip or deflate (Vert.x, on the HTTP port only: it has no cleartext HTTP/2,
   * where Vert.x would label an h2c-upgraded response gzip without compressing it); gRPC responses by the receiver,
   * gzip to clients that sent gzip and accept it.
   */
  /**
   * HTTP/2 flow-control window per stream and per connection. The protocol's default, 64 KiB, is less than two
   * requests of a typical SDK batch (~35 KB for 100 spans): a client multiplexing its exports on one connection then
   * waits for a WINDOW_UPDATE round trip every other request, and gRPC ran at 70 % of OTLP/HTTP's rate with the
   * gateway half idle (docs/benchmarks.md). 1 MiB is grpc-java's default window; data in it is read at once (the
   * receiver's own limits bound what is held), so it does not raise what a connection can make the gateway buffer.
   */
  static final int HTTP2_WINDOW_BYTES = 1 << 20;

  static HttpServerOptions serverOptions(HostPort hp, ReceiverLimits limits, boolean h2c) {
    return new HttpServerOptions().setHost(hp.host()).setPort(hp.port())
        .setHttp2ClearTextEnabled(h2c)
        .setCompressionSupported(!h2c).setDecompressionSupported(false)
        .setHandle100ContinueAutomatically(true)
        .setMaxHeaderSize(limits.maxHeaderBytes())
        .setInitialSettings(new io.vertx.core.http.Http2Settings()
            .setMaxConcurrentStreams(limits.maxConcurrentStreams())
            .setMaxHeaderListSize(limits.maxHeaderBytes())
            .setInitialWindowSize(HTTP2_WINDOW_BYTES))
        .setHttp2ConnectionWindowSize(HTTP2_WINDOW_BYTES)
        .setIdleTimeout((int) Math.max(1, limits.idleTimeout().toSeconds()))
        .setIdleTimeoutUnit(java.util.concurrent.TimeUnit.SECONDS);
  }

  /** One event loop's listeners. */
  private final class Listeners extends VerticleBase {
    private final List<HttpServer> servers = new ArrayList<>();

    @Override
    public Future<?> start() {
      List<Future<HttpServer>> binds = new ArrayList<>();
      if (config.grpc() != null) {
        HttpServerOptions o = serverOptions(config.grpc(), config.limits(), true);
        io.vertx.grpc.server.GrpcServer grpc = new OtlpGrpcReceiver(ingest, config).server(vertx);
        // A stream whose message has not arrived within read_timeout is reset (CANCEL): its client retries.
        HttpServer s = vertx.createHttpServer(grpcTls == null ? o : grpcTls.apply(o, true))
            .requestHandler(req -> {
              if (grpcGuard.admit(req, () -> req.response().reset(8))) {
                if (req.getHeader("grpc-encoding") == null) {
                  // Vert.x gRPC 5.0's deframer throws (unhandled: the call is never answered) on a frame marked
                  // compressed when the call names no encoding; named "identity", the same frame is refused cleanly.
                  // Found by OtlpReceiverFuzzTest.
                  req.headers().set("grpc-encoding", "identity");
                }
                grpc.handle(req);
              }
            });
        grpcGuard.attach(s);
        servers.add(s);
        if (grpcTls != null) {
          grpcTls.register(s, true);
        }
        binds.add(s.listen());
      }
      if (config.http() != null) {
        // No cleartext HTTP/2 on the OTLP/HTTP port (as the Collector's): sniffing for it delays the connection until
        // a whole request head has arrived, which would hide a client trickling its headers from the guard.
        HttpServerOptions o = serverOptions(config.http(), config.limits(), false);
        OtlpHttpReceiver http = new OtlpHttpReceiver(ingest, config);
        HttpServer s = vertx.createHttpServer(httpTls == null ? o : httpTls.apply(o, true))
            .requestHandler(req -> {
              if (httpGuard.admit(req, () -> http.timedOut(req))) {
                http.handle(req);
              }
            });
        httpGuard.attach(s);
        servers.add(s);
        if (httpTls != null) {
          httpTls.register(s, true);
        }
        binds.add(s.listen());
      }
      return Future.all(binds);
    }

    @Override
    public Future<?> stop() {
      // Graceful: no new connections, and requests in flight — a client waiting for its data to reach a
      // write-ahead log or its trace's owner — are still answered, so a success is never lost to the stop (the
      // client would retry it elsewhere: a duplicate). New requests are refused by the pipelines meanwhile.
      List<Future<Void>> closes = new ArrayList<>();
      for (HttpServer s : servers) {
        if (grpcTls != null) {
          grpcTls.unregister(s);
        }
        if (httpTls != null) {
          httpTls.unregister(s);
        }
        closes.add(s.shutdown(IN_FLIGHT_GRACE_SECONDS, java.util.concurrent.TimeUnit.SECONDS));
      }
      return Future.all(closes);
    }
  }
}
