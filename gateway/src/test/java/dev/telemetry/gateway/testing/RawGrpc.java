package dev.telemetry.gateway.testing;

import dev.telemetry.gateway.otlp.Signal;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientOptions;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcStatus;
import java.util.concurrent.TimeUnit;

/** A gRPC client that sends arbitrary bytes (malformed, pre-compressed, oversized) to an OTLP Export method. */
public final class RawGrpc implements AutoCloseable {
  private final GrpcClient client;
  private final SocketAddress address;

  /** What came back: the status, its message and the trailers (for RetryInfo). */
  public record Result(GrpcStatus status, String message, MultiMap trailers, MultiMap headers) {
  }

  public RawGrpc(Vertx vertx, int port) {
    this.client = GrpcClient.client(vertx, new GrpcClientOptions().setMaxMessageSize(256L * 1024 * 1024),
        new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    this.address = SocketAddress.inetSocketAddress(port, "127.0.0.1");
  }

  /** Sends one message; {@code encoding} "gzip" means {@code payload} is already gzip-compressed. */
  public Result export(Signal signal, Buffer payload, String encoding) throws Exception {
    return export(signal, payload, encoding, java.util.Map.of());
  }

  /** The same, with request metadata (e.g. a tenant header). */
  public Result export(Signal signal, Buffer payload, String encoding, java.util.Map<String, String> metadata)
      throws Exception {
    GrpcClientRequest<Buffer, Buffer> req = client.request(address).await(10, TimeUnit.SECONDS);
    metadata.forEach((k, v) -> req.headers().set(k, v));
    req.fullMethodName(signal.grpcService() + "/Export");
    req.encoding(encoding);
    req.endMessage(GrpcMessage.message(encoding, payload));
    GrpcClientResponse<Buffer, Buffer> resp = req.response().await(10, TimeUnit.SECONDS);
    try {
      resp.end().await(10, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // non-OK status: read it below
    }
    return new Result(resp.status(), resp.statusMessage(), resp.trailers(), resp.headers());
  }

  /**
   * One unary call written frame by frame over plain HTTP/2, for message encodings the gRPC client does not know
   * (zstd, snappy, deflate): {@code payload} is already compressed with {@code encoding}.
   */
  public Result exportFramed(io.vertx.core.Vertx vertx, Signal signal, Buffer payload, String encoding)
      throws Exception {
    io.vertx.core.http.HttpClient h2 = vertx.createHttpClient(new HttpClientOptions()
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    try {
      Buffer frame = Buffer.buffer().appendByte((byte) 1).appendInt(payload.length()).appendBuffer(payload);
      // One chain on the client's event loop — request, headers, send, body — so no step runs on the test thread
      // between the stream's creation and its response (a CI run once waited 30 s for an answer that way); the body
      // is asked for at once, since data that arrives before a handler is set is not kept.
      io.vertx.core.http.HttpClientResponse resp = h2.request(new io.vertx.core.http.RequestOptions()
              .setMethod(io.vertx.core.http.HttpMethod.POST).setServer(address).setHost("127.0.0.1")
              .setPort(address.port()).setURI("/" + signal.grpcService() + "/Export"))
          .compose(req -> req.putHeader("content-type", "application/grpc").putHeader("te", "trailers")
              .putHeader("grpc-encoding", encoding).send(frame))
          .compose(r -> r.body().map(b -> r))
          .await(30, TimeUnit.SECONDS);
      MultiMap where = resp.trailers().contains("grpc-status") ? resp.trailers() : resp.headers();
      GrpcStatus status = GrpcStatus.valueOf(Integer.parseInt(where.get("grpc-status")));
      return new Result(status, where.get("grpc-message"), resp.trailers(), resp.headers());
    } finally {
      h2.close().await(30, TimeUnit.SECONDS);
    }
  }

  /** The RetryInfo delay in the result's status details, or -1 when the answer carries none. */
  public static long retryDelayMillis(Result r) {
    String details = r.trailers() == null ? null : r.trailers().get("grpc-status-details-bin");
    if (details == null && r.headers() != null) {
      details = r.headers().get("grpc-status-details-bin");
    }
    if (details == null) {
      return -1;
    }
    try {
      com.google.rpc.Status status = com.google.rpc.Status.parseFrom(java.util.Base64.getDecoder().decode(details));
      for (com.google.protobuf.Any a : status.getDetailsList()) {
        if (a.is(com.google.rpc.RetryInfo.class)) {
          com.google.protobuf.Duration d = a.unpack(com.google.rpc.RetryInfo.class).getRetryDelay();
          return d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
        }
      }
    } catch (Exception e) {
      throw new AssertionError("grpc-status-details-bin does not parse", e);
    }
    return -1;
  }

  @Override
  public void close() throws Exception {
    client.close().await(10, TimeUnit.SECONDS);
  }
}
