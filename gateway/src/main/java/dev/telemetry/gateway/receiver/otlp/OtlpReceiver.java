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
  private String deploymentId;

  public OtlpReceiver(Vertx vertx, OtlpReceiverConfig config, TelemetryConsumer consumer, MeterRegistry registry,
                      int instances, HeapLedger heap) {
    this.vertx = vertx;
    this.config = config;
    this.ingest = new OtlpIngest(config.name(), consumer, new ReceiverMetrics(registry, config.name()), heap);
    this.instances = instances;
  }

  @Override
  public Future<Void> start() {
    return vertx.deployVerticle(() -> new Listeners(), new DeploymentOptions().setInstances(instances))
        .onSuccess(id -> {
          deploymentId = id;
          LOG.info("receiver " + config.name() + " listening: grpc=" + config.grpc() + " http=" + config.http());
        })
        .mapEmpty();
  }

  @Override
  public Future<Void> stop() {
    return deploymentId == null ? Future.succeededFuture() : vertx.undeploy(deploymentId);
  }

  private static HttpServerOptions serverOptions(HostPort hp) {
    return new HttpServerOptions().setHost(hp.host()).setPort(hp.port())
        .setCompressionSupported(false).setDecompressionSupported(false)
        .setHandle100ContinueAutomatically(true);
  }

  /** One event loop's listeners. */
  private final class Listeners extends VerticleBase {
    private final List<HttpServer> servers = new ArrayList<>();

    @Override
    public Future<?> start() {
      List<Future<HttpServer>> binds = new ArrayList<>();
      if (config.grpc() != null) {
        HttpServer s = vertx.createHttpServer(serverOptions(config.grpc()))
            .requestHandler(new OtlpGrpcReceiver(ingest, config).server(vertx));
        servers.add(s);
        binds.add(s.listen());
      }
      if (config.http() != null) {
        HttpServer s = vertx.createHttpServer(serverOptions(config.http()))
            .requestHandler(new OtlpHttpReceiver(ingest, config));
        servers.add(s);
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
        closes.add(s.shutdown(IN_FLIGHT_GRACE_SECONDS, java.util.concurrent.TimeUnit.SECONDS));
      }
      return Future.all(closes);
    }
  }
}
