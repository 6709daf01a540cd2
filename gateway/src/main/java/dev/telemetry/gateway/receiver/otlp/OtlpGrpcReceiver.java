package dev.telemetry.gateway.receiver.otlp;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.RetryInfo;
import com.google.rpc.Status;
import dev.telemetry.gateway.receiver.otlp.OtlpReceiverConfig;
import dev.telemetry.gateway.otlp.OtlpJson;
import dev.telemetry.gateway.otlp.OtlpJsonException;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.otlp.WireScan;
import dev.telemetry.gateway.backpressure.RefusedException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcMessage;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.MessageSizeOverflowException;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.common.WireFormat;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerOptions;
import io.vertx.grpc.server.GrpcServerRequest;
import io.vertx.grpc.server.GrpcServerResponse;
import java.io.IOException;
import java.util.Base64;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * OTLP/gRPC: the {@code Export} method of the trace, metrics and logs services, served by the Vert.x gRPC server on
 * the event loop. Messages are taken raw so that they are inflated by {@link Decompression} (the stock decoder has no
 * output bound). Status codes follow the OTLP spec: INVALID_ARGUMENT for bad data, RESOURCE_EXHAUSTED without
 * RetryInfo for oversized messages, RESOURCE_EXHAUSTED or UNAVAILABLE with RetryInfo when the client should retry.
 */
final class OtlpGrpcReceiver {
  private static final Logger LOG = Logger.getLogger(OtlpGrpcReceiver.class.getName());
  static final String TRANSPORT = "grpc";
  private static final String STATUS_DETAILS = "grpc-status-details-bin";

  private final OtlpIngest ingest;
  private final ReceiverMetrics metrics;
  private final OtlpReceiverConfig config;

  OtlpGrpcReceiver(OtlpIngest ingest, OtlpReceiverConfig config) {
    this.ingest = ingest;
    this.metrics = ingest.metrics();
    this.config = config;
  }

  /** A gRPC server with a handler for each signal this receiver feeds; others answer UNIMPLEMENTED. */
  GrpcServer server(Vertx vertx) {
    GrpcServer server = GrpcServer.server(vertx, new GrpcServerOptions().setMaxMessageSize(config.maxRequestBytes()));
    for (Signal signal : Signal.values()) {
      if (ingest.accepts(signal)) {
        ServiceMethod<Message, Message> method = ServiceMethod.server(ServiceName.create(signal.grpcService()),
            "Export", GrpcMessageEncoder.encoder(), GrpcMessageDecoder.decoder(signal.emptyRequest()));
        server.callHandler(method, req -> handle(signal, req));
      }
    }
    return server;
  }

  private void handle(Signal signal, GrpcServerRequest<Message, Message> req) {
    // Who is asking, before a message is read.
    dev.telemetry.gateway.pipeline.RequestHeaders headers;
    try {
      headers = ingest.authenticate(signal, dev.telemetry.gateway.pipeline.RequestHeaders.of(req.headers()::get,
          req.connection().isSsl() ? req.connection().sslSession() : null));
    } catch (dev.telemetry.gateway.pipeline.Authentication.AccessDenied e) {
      fail(req, signal, e.unauthenticated() ? GrpcStatus.UNAUTHENTICATED : GrpcStatus.PERMISSION_DENIED, e.reason(),
          e.getMessage());
      return;
    }
    GrpcMessage[] first = {null};
    boolean[] done = {false};
    req.invalidMessageHandler(invalid -> {
      if (done[0]) {
        return;
      }
      done[0] = true;
      if (invalid instanceof MessageSizeOverflowException) {
        fail(req, signal, GrpcStatus.RESOURCE_EXHAUSTED, "too_large",
            "message exceeds max_request_bytes (" + config.maxRequestBytes() + ")");
      } else {
        fail(req, signal, GrpcStatus.INVALID_ARGUMENT, "malformed", "invalid message: " + invalid.getMessage());
      }
    });
    req.messageHandler(msg -> {
      if (done[0]) {
        return;
      }
      if (first[0] != null) {
        done[0] = true;
        fail(req, signal, GrpcStatus.INVALID_ARGUMENT, "malformed", "Export is unary: send exactly one message");
        return;
      }
      first[0] = msg;
    });
    req.exceptionHandler(err -> {
      // A broken frame (e.g. a compressed-flag byte that is neither 0 nor 1) ends the stream with an error: answer
      // it, or the client waits until read_timeout resets the stream. On a reset stream the answer goes nowhere.
      if (!done[0]) {
        done[0] = true;
        fail(req, signal, GrpcStatus.INVALID_ARGUMENT, "malformed", "invalid request stream: " + err.getMessage());
      }
    });
    req.endHandler(v -> {
      if (done[0]) {
        return;
      }
      done[0] = true;
      if (first[0] == null) {
        fail(req, signal, GrpcStatus.INVALID_ARGUMENT, "malformed", "no request message");
        return;
      }
      process(signal, req, first[0], headers);
    });
  }

  private void process(Signal signal, GrpcServerRequest<Message, Message> req, GrpcMessage msg,
                       dev.telemetry.gateway.pipeline.RequestHeaders headers) {
    byte[] bytes = ReceivedBytes.of(msg.payload());
    switch (msg.encoding()) {
      case "identity" -> {
      }
      case "gzip", "zstd", "deflate", "snappy" -> {
        try {
          bytes = Decompression.inflate(msg.encoding(), bytes, config.maxDecompressedBytes());
        } catch (Decompression.TooLargeException e) {
          fail(req, signal, GrpcStatus.RESOURCE_EXHAUSTED, "decompressed_too_large", e.getMessage());
          return;
        } catch (IOException e) {
          fail(req, signal, GrpcStatus.INVALID_ARGUMENT, "malformed", "message is not valid " + msg.encoding() + ": "
              + e.getMessage());
          return;
        }
      }
      default -> {
        fail(req, signal, GrpcStatus.UNIMPLEMENTED, "unsupported_encoding",
            "unsupported grpc-encoding \"" + msg.encoding() + "\"; use gzip, zstd, deflate, snappy or identity");
        return;
      }
    }
    boolean json = msg.format() == WireFormat.JSON;
    WireScan.Shape shape = null;
    if (!json) {
      try {
        shape = WireScan.scan(signal.emptyRequest().getDescriptorForType(), bytes, config.limits().items());
      } catch (WireScan.Refused e) {
        fail(req, signal, GrpcStatus.INVALID_ARGUMENT, e.limit() ? "limit_exceeded" : "malformed",
            (e.limit() ? "" : "invalid OTLP message: ") + e.getMessage());
        return;
      }
    }
    long charge;
    try {
      charge = ingest.admit(signal, msg.payload().length(), bytes.length, shape);
    } catch (RefusedException e) {
      refused(req, signal, e);
      return;
    } catch (OtlpIngest.TooLarge e) {
      fail(req, signal, GrpcStatus.RESOURCE_EXHAUSTED, "decoded_too_large", e.getMessage());
      return;
    }
    // Protobuf a pipeline can take still encoded is not decoded at all (most spans are never decoded then).
    Future<Message> ingested = json ? null : ingest.ingestEncoded(TRANSPORT, signal, bytes, headers);
    if (ingested == null) {
      Message request;
      try {
        request = json ? OtlpJson.parse(bytes, signal.newRequestBuilder()) : signal.parseRequest(bytes);
        if (json) {
          WireScan.scan(request.getDescriptorForType(), request.toByteArray(), config.limits().items());
        }
      } catch (InvalidProtocolBufferException | OtlpJsonException e) {
        ingest.release(charge);
        fail(req, signal, GrpcStatus.INVALID_ARGUMENT, "malformed", "invalid OTLP message: " + e.getMessage());
        return;
      } catch (WireScan.Refused e) {
        ingest.release(charge);
        fail(req, signal, GrpcStatus.INVALID_ARGUMENT, "limit_exceeded", e.getMessage());
        return;
      }
      ingested = ingest.ingest(TRANSPORT, signal, request, json ? -1 : bytes.length, headers);
    }
    ingested.onComplete(ar -> {
      ingest.release(charge);
      if (ar.succeeded()) {
        if (answersCompressed(req, msg)) {
          req.response().encoding("gzip");
        }
        req.response().send(ar.result());
      } else if (ar.cause() instanceof RefusedException pr) {
        refused(req, signal, pr);
      } else {
        LOG.log(Level.SEVERE, "unexpected failure ingesting " + signal.id(), ar.cause());
        fail(req, signal, GrpcStatus.INTERNAL, "internal_error", "internal error: " + ar.cause().getMessage());
      }
    });
  }

  /**
   * A client that sent gzip and accepts it gets its answer gzip-compressed, as gRPC servers do. Not a cluster peer:
   * the Vert.x 5.0 gRPC client it forwards with cannot read a compressed answer (the call never completes).
   */
  private static boolean answersCompressed(GrpcServerRequest<Message, Message> req, GrpcMessage msg) {
    if (!"gzip".equals(msg.encoding())
        || req.headers().get(dev.telemetry.gateway.cluster.Cluster.FORWARD_HEADER) != null) {
      return false;
    }
    String accepted = req.headers().get("grpc-accept-encoding");
    if (accepted != null) {
      for (String e : accepted.split(",")) {
        if (e.trim().equalsIgnoreCase("gzip")) {
          return true;
        }
      }
    }
    return false;
  }

  private void refused(GrpcServerRequest<Message, Message> req, Signal signal, RefusedException refusal) {
    boolean full = refusal.reason().backPressure();
    metrics.refusedRequest(TRANSPORT, signal, refusal.reason().tag());
    retryLater(req, full ? GrpcStatus.RESOURCE_EXHAUSTED : GrpcStatus.UNAVAILABLE, refusal.getMessage(),
        Math.max(config.retryAfter().toMillis(), refusal.retryAfterMillis()));
  }

  private void fail(GrpcServerRequest<Message, Message> req, Signal signal, GrpcStatus status, String reason,
                    String message) {
    metrics.refusedRequest(TRANSPORT, signal, reason);
    GrpcServerResponse<Message, Message> resp = req.response();
    resp.status(status).statusMessage(message).end();
  }

  /** A retryable refusal: the status plus google.rpc.RetryInfo in grpc-status-details-bin, as the OTLP spec asks. */
  private void retryLater(GrpcServerRequest<Message, Message> req, GrpcStatus status, String message,
                          long delayMillis) {
    Status details = Status.newBuilder().setCode(status.code).setMessage(message)
        .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(com.google.protobuf.Duration.newBuilder()
            .setSeconds(delayMillis / 1000).setNanos((int) (delayMillis % 1000) * 1_000_000)).build()))
        .build();
    GrpcServerResponse<Message, Message> resp = req.response();
    resp.trailers().set(STATUS_DETAILS, Base64.getEncoder().withoutPadding().encodeToString(details.toByteArray()));
    resp.status(status).statusMessage(message).end();
  }
}
