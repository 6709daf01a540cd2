package dev.telemetry.gateway.cluster;

import dev.telemetry.gateway.backpressure.RefusedException;
import dev.telemetry.gateway.pipeline.RequestHeaders;
import dev.telemetry.proto.cluster.ForwardBatch;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.spi.cluster.NodeInfo;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Forwards as plain OTLP/gRPC {@code TraceService/Export} calls to the owner's OTLP receiver (its address is in the
 * member's cluster metadata), one call per part, gzip when configured. What makes it a forward rides in metadata:
 * {@code x-gateway-forward} (sampler, destination, hops, origin) and {@code x-gateway-cluster-token}; the owner's
 * receiver hands such calls to the cluster instead of the pipeline ({@link #intercept}) only when the token matches,
 * so a client cannot use the header to skip processing.
 */
final class OtlpGrpcTransport implements ForwardTransport {
  static final String FORWARD_HEADER = Cluster.FORWARD_HEADER;
  static final String TOKEN_HEADER = "x-gateway-cluster-token";
  static final String ADDRESS_KEY = "otlp_grpc";

  private static final ServiceMethod<Buffer, Buffer> EXPORT = ServiceMethod.client(
      ServiceName.create("opentelemetry.proto.collector.trace.v1.TraceService"), "Export",
      GrpcMessageEncoder.IDENTITY, GrpcMessageDecoder.IDENTITY);

  private final Vertx vertx;
  private final HazelcastClusterManager manager;
  private final String token;
  private final boolean gzip;
  private final long timeoutMillis;
  private final Map<String, SocketAddress> addresses = new ConcurrentHashMap<>();
  private GrpcClient client;
  private ForwardReceiver receiver;

  /** TLS towards the members' receivers (null: plaintext). */
  private final dev.telemetry.gateway.config.TlsClientConfig tls;

  OtlpGrpcTransport(Vertx vertx, HazelcastClusterManager manager, String token, boolean gzip, long timeoutMillis,
                    dev.telemetry.gateway.config.TlsClientConfig tls) {
    this.tls = tls;
    this.vertx = vertx;
    this.manager = manager;
    this.token = token;
    this.gzip = gzip;
    this.timeoutMillis = timeoutMillis;
  }

  @Override
  public Future<Void> start(ForwardReceiver receiver) {
    this.receiver = receiver;
    HttpClientOptions options = new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
        .setConnectTimeout((int) timeoutMillis).setKeepAlive(true);
    if (tls != null) {
      dev.telemetry.gateway.security.tls.ClientTls.apply(options, tls).setUseAlpn(true);
    }
    client = GrpcClient.client(vertx, new GrpcClientOptions(), options);
    return Future.succeededFuture();
  }

  /**
   * For the receiver side: when {@code headers} mark a forward with the right token, takes the request as forwarded
   * spans and returns the outcome; null when this is ordinary client traffic.
   */
  Future<Void> intercept(RequestHeaders headers, ExportTraceServiceRequest request) {
    String forward = headers.get(FORWARD_HEADER);
    if (forward == null || receiver == null) {
      return null;
    }
    if (!tokenMatches(headers.get(TOKEN_HEADER))) {
      return Future.failedFuture(new IllegalArgumentException(FORWARD_HEADER + " without the cluster token"));
    }
    ForwardBatch meta;
    try {
      meta = ForwardBatch.parseFrom(Base64.getUrlDecoder().decode(forward));
    } catch (IllegalArgumentException | com.google.protobuf.InvalidProtocolBufferException e) {
      return Future.failedFuture(new IllegalArgumentException("unreadable " + FORWARD_HEADER + ": " + e.getMessage()));
    }
    if (meta.getPartsCount() != 1) {
      return Future.failedFuture(new IllegalArgumentException(FORWARD_HEADER + " must describe exactly one part"));
    }
    ForwardReceiver.Part part = ForwardCodec.part(meta.getParts(0), meta.getHops());
    return receiver.accept(meta.getOrigin(), meta.getHops(), part, request).recover(e -> Future.failedFuture(
        e instanceof ForwardRefusedException ? new RefusedException(
            RefusedException.Reason.QUEUE_FULL, e.getMessage()) : e));
  }

  /** A forward from a member: the forward header with the cluster token. */
  boolean isPeer(RequestHeaders headers) {
    return headers.get(FORWARD_HEADER) != null && tokenMatches(headers.get(TOKEN_HEADER));
  }

  private boolean tokenMatches(String presented) {
    return presented != null && MessageDigest.isEqual(presented.getBytes(StandardCharsets.UTF_8),
        token.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public Future<Void> send(String member, String origin, int hops, List<ForwardReceiver.Part> parts) {
    return address(member).compose(address -> {
      List<Future<Void>> calls = new ArrayList<>(parts.size());
      for (ForwardReceiver.Part p : parts) {
        calls.add(call(address, origin, hops, p));
      }
      // Parts are separate calls: one may succeed and another fail; the forwarder then resends the whole batch,
      // which can duplicate the parts that went through (at-least-once, like any retried export).
      return Future.all(calls).mapEmpty();
    });
  }

  private Future<Void> call(SocketAddress address, String origin, int hops, ForwardReceiver.Part p) {
    ForwardBatch meta = ForwardBatch.newBuilder().setOrigin(origin).setHops(hops)
        .addParts(ForwardCodec.part(p.with(com.google.protobuf.ByteString.EMPTY, hops, 0))).build();
    Promise<Void> done = Promise.promise();
    client.request(address, EXPORT).compose(req -> {
      req.headers().add(FORWARD_HEADER, Base64.getUrlEncoder().withoutPadding().encodeToString(meta.toByteArray()));
      req.headers().add(TOKEN_HEADER, token);
      if (gzip) {
        req.encoding("gzip");
      }
      req.timeout(timeoutMillis, TimeUnit.MILLISECONDS);
      return req.send(Buffer.buffer(p.request().toByteArray()));
    }).compose(resp -> resp.last().transform(ar -> {
      GrpcStatus status = resp.status();
      if (ar.succeeded() && (status == null || status == GrpcStatus.OK)) {
        return Future.succeededFuture();
      }
      String message = "member answered " + (status == null ? "no status" : status.name())
          + (resp.statusMessage() == null ? "" : ": " + resp.statusMessage());
      return Future.failedFuture(status == GrpcStatus.RESOURCE_EXHAUSTED || status == GrpcStatus.UNAVAILABLE
          ? new ForwardRefusedException(message) : new IllegalStateException(message));
    })).onComplete(ar -> done.handle(ar.mapEmpty()));
    return done.future();
  }

  /** The member's OTLP/gRPC address from its cluster metadata (cached: it never changes for a node ID). */
  private Future<SocketAddress> address(String member) {
    SocketAddress known = addresses.get(member);
    if (known != null) {
      return Future.succeededFuture(known);
    }
    Promise<NodeInfo> info = Promise.promise();
    manager.getNodeInfo(member, info);
    return info.future().compose(ni -> {
      String hp = ni == null || ni.metadata() == null ? null : ni.metadata().getString(ADDRESS_KEY);
      if (hp == null) {
        return Future.failedFuture("member " + member + " publishes no OTLP/gRPC address (is its "
            + "cluster.forwarding.transport otlp_grpc too?)");
      }
      int colon = hp.lastIndexOf(':');
      SocketAddress a = SocketAddress.inetSocketAddress(Integer.parseInt(hp.substring(colon + 1)),
          hp.substring(0, colon));
      addresses.put(member, a);
      return Future.succeededFuture(a);
    });
  }

  @Override
  public Future<Void> stop() {
    return client == null ? Future.succeededFuture() : client.close();
  }
}
