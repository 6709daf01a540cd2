package dev.telemetry.gateway.exporter.otlp;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import dev.telemetry.gateway.exporter.otlp.OtlpExporterConfig;
import dev.telemetry.gateway.exporter.ExportException;
import dev.telemetry.gateway.exporter.ExportResult;
import dev.telemetry.gateway.exporter.Exporter;
import dev.telemetry.gateway.otlp.Signal;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import java.time.Duration;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Exports one signal over OTLP/gRPC with the Vert.x gRPC client (HTTP/2, prior knowledge for http://, ALPN for
 * https://). Each batch is one unary {@code Export} call with a deadline. Failures are classified as the OTLP spec
 * says: UNAVAILABLE, CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE and DATA_LOSS are retryable,
 * RESOURCE_EXHAUSTED only when the server sent RetryInfo (whose delay is honoured), everything else is permanent.
 * Jaeger 1.35+ accepts this directly on its OTLP port.
 */
public final class OtlpGrpcExporter implements Exporter {
  private static final Set<GrpcStatus> RETRYABLE = EnumSet.of(GrpcStatus.CANCELLED, GrpcStatus.DEADLINE_EXCEEDED,
      GrpcStatus.ABORTED, GrpcStatus.OUT_OF_RANGE, GrpcStatus.UNAVAILABLE, GrpcStatus.DATA_LOSS);

  private final Vertx vertx;
  private final OtlpExporterConfig config;
  private final Signal signal;
  private SocketAddress address;
  private final ServiceMethod<Message, Message> method;
  private GrpcClient client;

  public OtlpGrpcExporter(Vertx vertx, OtlpExporterConfig config, Signal signal) {
    this.vertx = vertx;
    this.config = config;
    this.signal = signal;
    this.address = SocketAddress.inetSocketAddress(config.endpoint().getPort(), config.endpoint().getHost());
    this.method = ServiceMethod.client(ServiceName.create(signal.grpcService()), "Export",
        GrpcMessageEncoder.encoder(), GrpcMessageDecoder.decoder(signal.emptyResponse()));
  }

  @Override
  public Future<Void> start() {
    HttpClientOptions http = new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false)
        .setSsl(config.tls())
        .setUseAlpn(config.tls())
        .setVerifyHost(true)
        .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis()))
        .setKeepAlive(true);
    if (config.tls()) {
      dev.telemetry.gateway.security.tls.ClientTls.apply(http, config.clientTls());
    }
    client = GrpcClient.client(vertx, new GrpcClientOptions(), http);
    String serverName = config.tls() ? config.clientTls().serverName() : null;
    if (serverName == null) {
      return Future.succeededFuture();
    }
    // Connect to the endpoint's address, but verify (and send as SNI) the configured name: the address is resolved
    // once here and carries that name.
    return vertx.executeBlocking(() -> {
      java.net.InetAddress ip = java.net.InetAddress.getByName(config.endpoint().getHost());
      address = SocketAddress.inetSocketAddress(new java.net.InetSocketAddress(java.net.InetAddress.getByAddress(
          serverName, ip.getAddress()), config.endpoint().getPort()));
      return null;
    }, false).mapEmpty();
  }

  @Override
  public Future<ExportResult> export(Message request, int items) {
    Promise<ExportResult> result = Promise.promise();
    long timeoutMs = config.timeout().toMillis();
    GrpcClientRequest<?, ?>[] inFlight = {null};
    long timer = vertx.setTimer(timeoutMs, id -> {
      if (result.tryFail(ExportException.retryable("timeout", "no response within " + timeoutMs + "ms", null))
          && inFlight[0] != null) {
        inFlight[0].cancel();
      }
    });
    client.request(address, method)
        .compose(req -> {
          inFlight[0] = req;
          for (Map.Entry<String, String> h : config.headers().entrySet()) {
            req.headers().add(h.getKey(), h.getValue());
          }
          if (config.compression() == OtlpExporterConfig.Compression.GZIP) {
            req.encoding("gzip");
          }
          req.timeout(timeoutMs, TimeUnit.MILLISECONDS);
          return req.send(request);
        })
        .compose(resp -> resp.last().transform(ar -> ar.succeeded()
            ? Future.succeededFuture(partial(ar.result()))
            : Future.failedFuture(classify(resp))))
        .onComplete(ar -> {
          vertx.cancelTimer(timer);
          if (ar.succeeded()) {
            result.tryComplete(ar.result());
          } else {
            result.tryFail(ar.cause() instanceof ExportException ? ar.cause()
                : new ExportException("cannot reach " + config.endpoint() + ": " + ar.cause(), true, null,
                    "unavailable", ar.cause()));
          }
        });
    return result.future();
  }

  private ExportResult partial(Message response) {
    Signal.PartialSuccess p = signal.partialSuccess(response);
    return p.rejected() == 0 ? ExportResult.OK : new ExportResult(p.rejected(), p.errorMessage());
  }

  private ExportException classify(GrpcClientResponse<Message, Message> resp) {
    GrpcStatus status = resp.status() == null ? GrpcStatus.UNKNOWN : resp.status();
    String message = "backend answered " + status.name() + " (" + status.code + ")"
        + (resp.statusMessage() == null ? "" : ": " + resp.statusMessage());
    Duration retryDelay = retryDelay(resp.trailers());
    if (retryDelay == null) {
      retryDelay = retryDelay(resp.headers()); // trailers-only responses carry the status in the headers
    }
    String reason = status.name().toLowerCase(java.util.Locale.ROOT);
    if (RETRYABLE.contains(status) || (status == GrpcStatus.RESOURCE_EXHAUSTED && retryDelay != null)) {
      return ExportException.retryable(reason, message, retryDelay);
    }
    return ExportException.permanent(reason, message);
  }

  /** The RetryInfo delay from {@code grpc-status-details-bin}, or null. */
  static Duration retryDelay(MultiMap metadata) {
    String details = metadata == null ? null : metadata.get("grpc-status-details-bin");
    if (details == null) {
      return null;
    }
    try {
      Status status = Status.parseFrom(Base64.getDecoder().decode(details));
      for (Any any : status.getDetailsList()) {
        if (any.is(RetryInfo.class)) {
          com.google.protobuf.Duration d = any.unpack(RetryInfo.class).getRetryDelay();
          return Duration.ofSeconds(d.getSeconds(), d.getNanos());
        }
      }
    } catch (IllegalArgumentException | InvalidProtocolBufferException e) {
      return null; // unreadable details: fall back to our own backoff
    }
    return null;
  }

  @Override
  public Future<Void> stop() {
    return client == null ? Future.succeededFuture() : client.close();
  }
}
