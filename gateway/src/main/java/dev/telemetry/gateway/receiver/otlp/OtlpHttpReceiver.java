package dev.telemetry.gateway.receiver.otlp;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.Code;
import com.google.rpc.Status;
import dev.telemetry.gateway.receiver.otlp.OtlpReceiverConfig;
import dev.telemetry.gateway.otlp.OtlpJson;
import dev.telemetry.gateway.otlp.OtlpJsonException;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.otlp.WireScan;
import dev.telemetry.gateway.backpressure.RefusedException;
import dev.telemetry.gateway.pipeline.Authentication;
import dev.telemetry.gateway.pipeline.RequestHeaders;
import io.vertx.core.Handler;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * OTLP/HTTP (spec: "OTLP/HTTP"): {@code POST /v1/traces|metrics|logs} with {@code application/x-protobuf} or
 * {@code application/json} bodies, optionally compressed (gzip, zstd, deflate, snappy, x-snappy-framed). Bodies are read with a running size check and inflated
 * with a bounded decompressor; responses use the request's encoding. Status codes: 200 (with partial success when
 * items were rejected), 400 bad data, 404 unknown path, 405 not POST, 413 too large, 415 unsupported content type or
 * encoding, 429/503 with Retry-After when back-pressured or not ready.
 */
final class OtlpHttpReceiver implements Handler<HttpServerRequest> {
  private static final Logger LOG = Logger.getLogger(OtlpHttpReceiver.class.getName());
  static final String TRANSPORT = "http";
  static final String PROTOBUF = "application/x-protobuf";
  static final String JSON = "application/json";

  private final OtlpIngest ingest;
  private final ReceiverMetrics metrics;
  private final OtlpReceiverConfig config;
  private final String retryAfterSeconds;

  OtlpHttpReceiver(OtlpIngest ingest, OtlpReceiverConfig config) {
    this.ingest = ingest;
    this.metrics = ingest.metrics();
    this.config = config;
    this.retryAfterSeconds = Long.toString(Math.max(1, config.retryAfter().toSeconds()));
  }

  @Override
  public void handle(HttpServerRequest req) {
    Signal signal = signalOf(req.path());
    boolean json = isJson(req.getHeader(HttpHeaders.CONTENT_TYPE));
    if (signal == null || !ingest.accepts(signal)) {
      refuse(req, signal, json, 404, "not_found", "no OTLP endpoint at " + req.path()
          + (signal == null ? " (use /v1/traces, /v1/metrics or /v1/logs)" : " (no pipeline takes " + signal.id()
          + " from this receiver)"));
      return;
    }
    if (req.method() != HttpMethod.POST) {
      req.response().putHeader(HttpHeaders.ALLOW, "POST");
      refuse(req, signal, json, 405, "method_not_allowed", "use POST");
      return;
    }
    String mediaType = mediaType(req.getHeader(HttpHeaders.CONTENT_TYPE));
    if (!PROTOBUF.equals(mediaType) && !JSON.equals(mediaType)) {
      refuse(req, signal, false, 415, "unsupported_media_type", "unsupported Content-Type \""
          + req.getHeader(HttpHeaders.CONTENT_TYPE) + "\"; use " + PROTOBUF + " or " + JSON);
      return;
    }
    String encoding = req.getHeader(HttpHeaders.CONTENT_ENCODING);
    String gzip; // the request's content coding; null: none
    if (encoding == null || encoding.isEmpty() || encoding.equalsIgnoreCase("identity")) {
      gzip = null;
    } else if (Decompression.supported(encoding)) {
      gzip = encoding;
    } else {
      refuse(req, signal, json, 415, "unsupported_encoding", "unsupported Content-Encoding \"" + encoding
          + "\"; use one of " + String.join(", ", Decompression.ENCODINGS) + " or none");
      return;
    }
    // Who is asking, before a byte of the body is read.
    RequestHeaders headers;
    try {
      headers = ingest.authenticate(signal, RequestHeaders.of(req::getHeader, req.isSSL() ? req.sslSession() : null));
    } catch (Authentication.AccessDenied e) {
      metrics.refusedRequest(TRANSPORT, signal, e.reason());
      HttpServerResponse resp = req.response();
      if (e.unauthenticated()) {
        resp.putHeader("WWW-Authenticate", "Bearer realm=\"otlp\"");
      }
      resp.putHeader(HttpHeaders.CONNECTION, "close"); // the body is not read
      respondStatus(resp, e.unauthenticated() ? 401 : 403, json,
          e.unauthenticated() ? Code.UNAUTHENTICATED : Code.PERMISSION_DENIED, e.getMessage());
      return;
    }
    String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
    if (length != null && parseLong(length) > config.maxRequestBytes()) {
      refuse(req, signal, json, 413, "too_large", "request body of " + length
          + " bytes exceeds max_request_bytes (" + config.maxRequestBytes() + ")");
      return;
    }
    readBody(req, signal, json, gzip, length == null ? -1 : parseLong(length), headers);
  }

  private void readBody(HttpServerRequest req, Signal signal, boolean json, String gzip, long contentLength,
                        RequestHeaders headers) {
    // Sized from Content-Length when known: growing the buffer chunk by chunk showed up in profiles (copies).
    Buffer body = Buffer.buffer((int) Math.min(config.maxRequestBytes(), contentLength > 0 ? contentLength : 4096));
    boolean[] refused = {false};
    req.handler(chunk -> {
      if (refused[0]) {
        return;
      }
      if (body.length() + chunk.length() > config.maxRequestBytes()) {
        refused[0] = true;
        refuse(req, signal, json, 413, "too_large", "request body exceeds max_request_bytes ("
            + config.maxRequestBytes() + ")");
        return;
      }
      body.appendBuffer(chunk);
    });
    req.exceptionHandler(err -> refused[0] = true);
    req.endHandler(v -> {
      if (!refused[0]) {
        process(req, signal, json, gzip, body, headers);
      }
    });
  }

  private void process(HttpServerRequest req, Signal signal, boolean json, String gzip, Buffer body,
                       RequestHeaders headers) {
    byte[] bytes = ReceivedBytes.of(body);
    if (gzip != null) {
      try {
        bytes = Decompression.inflate(gzip, bytes, config.maxDecompressedBytes());
      } catch (Decompression.TooLargeException e) {
        refuse(req, signal, json, 413, "decompressed_too_large", e.getMessage());
        return;
      } catch (IOException e) {
        refuse(req, signal, json, 400, "malformed", "body is not valid " + gzip + ": " + e.getMessage());
        return;
      }
    }
    WireScan.Shape shape = null;
    if (!json) {
      try {
        shape = WireScan.scan(signal.emptyRequest().getDescriptorForType(), bytes, config.limits().items());
      } catch (WireScan.Refused e) {
        refuse(req, signal, false, 400, e.limit() ? "limit_exceeded" : "malformed",
            (e.limit() ? "" : "invalid OTLP protobuf: ") + e.getMessage());
        return;
      }
    }
    long charge;
    try {
      charge = ingest.admit(signal, body.length(), bytes.length, shape);
    } catch (RefusedException e) {
      retryLater(req, signal, json, e);
      return;
    } catch (OtlpIngest.TooLarge e) {
      refuse(req, signal, json, 413, "decoded_too_large", e.getMessage());
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
      } catch (OtlpJsonException e) {
        ingest.release(charge);
        refuse(req, signal, true, 400, "malformed", "invalid OTLP/JSON: " + e.getMessage());
        return;
      } catch (InvalidProtocolBufferException e) {
        ingest.release(charge);
        refuse(req, signal, false, 400, "malformed", "invalid OTLP protobuf: " + e.getMessage());
        return;
      } catch (WireScan.Refused e) {
        ingest.release(charge);
        refuse(req, signal, true, 400, "limit_exceeded", e.getMessage());
        return;
      }
      ingested = ingest.ingest(TRANSPORT, signal, request, json ? -1 : bytes.length, headers);
    }
    ingested.onComplete(ar -> {
      ingest.release(charge);
      if (ar.succeeded()) {
        respond(req.response(), 200, json, ar.result());
      } else if (ar.cause() instanceof RefusedException pr) {
        retryLater(req, signal, json, pr);
      } else {
        LOG.log(Level.SEVERE, "unexpected failure ingesting " + signal.id(), ar.cause());
        metrics.refusedRequest(TRANSPORT, signal, "internal_error");
        respondStatus(req.response(), 500, json, Code.INTERNAL, "internal error: " + ar.cause().getMessage());
      }
    });
  }

  /** The body did not arrive within read_timeout: 408, and the connection is closed (its state is unknown). */
  void timedOut(HttpServerRequest req) {
    Signal signal = signalOf(req.path());
    metrics.refusedRequest(TRANSPORT, signal, "read_timeout");
    HttpServerResponse resp = req.response();
    if (!resp.ended() && !resp.closed() && !resp.headWritten()) {
      resp.putHeader(HttpHeaders.CONNECTION, "close");
      respondStatus(resp, 408, isJson(req.getHeader(HttpHeaders.CONTENT_TYPE)), Code.DEADLINE_EXCEEDED,
          "the request body did not arrive within read_timeout; send it faster or raise limits.read_timeout");
    }
    req.connection().close();
  }

  /** 429 (back-pressure) or 503 (not ready) with Retry-After: the client should send the same request again. */
  private void retryLater(HttpServerRequest req, Signal signal, boolean json, RefusedException refusal) {
    boolean full = refusal.reason().backPressure();
    // Whole seconds (RFC 9110), never sooner than the refuser says a retry can succeed.
    long known = (refusal.retryAfterMillis() + 999) / 1000;
    req.response().putHeader(HttpHeaders.RETRY_AFTER, known > Long.parseLong(retryAfterSeconds)
        ? Long.toString(known) : retryAfterSeconds);
    metrics.refusedRequest(TRANSPORT, signal, refusal.reason().tag());
    respondStatus(req.response(), full ? 429 : 503, json, full ? Code.RESOURCE_EXHAUSTED : Code.UNAVAILABLE,
        refusal.getMessage());
  }

  private void refuse(HttpServerRequest req, Signal signal, boolean json, int status, String reason, String msg) {
    metrics.refusedRequest(TRANSPORT, signal, reason);
    Code code = switch (status) {
      case 404 -> Code.NOT_FOUND;
      case 405, 415 -> Code.UNIMPLEMENTED;
      case 413 -> Code.RESOURCE_EXHAUSTED;
      default -> Code.INVALID_ARGUMENT;
    };
    HttpServerResponse resp = req.response();
    if (status == 413) {
      // The rest of the body is not worth reading: answer and close the connection.
      resp.putHeader(HttpHeaders.CONNECTION, "close");
    }
    respondStatus(resp, status, json, code, msg);
  }

  private static void respondStatus(HttpServerResponse resp, int httpStatus, boolean json, Code code, String msg) {
    respond(resp, httpStatus, json, Status.newBuilder().setCode(code.getNumber()).setMessage(msg).build());
  }

  private static void respond(HttpServerResponse resp, int httpStatus, boolean json, Message body) {
    if (resp.ended() || resp.closed()) {
      return;
    }
    resp.setStatusCode(httpStatus)
        .putHeader(HttpHeaders.CONTENT_TYPE, json ? JSON : PROTOBUF)
        .end(Buffer.buffer(json ? OtlpJson.write(body) : body.toByteArray()));
  }

  static Signal signalOf(String path) {
    if (path == null) {
      return null;
    }
    for (Signal s : Signal.values()) {
      if (s.httpPath().equals(path)) {
        return s;
      }
    }
    return null;
  }

  static String mediaType(String contentType) {
    if (contentType == null) {
      return null;
    }
    int semi = contentType.indexOf(';');
    return (semi < 0 ? contentType : contentType.substring(0, semi)).trim().toLowerCase(Locale.ROOT);
  }

  private static boolean isJson(String contentType) {
    return JSON.equals(mediaType(contentType));
  }

  private static long parseLong(String s) {
    try {
      return Long.parseLong(s.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
