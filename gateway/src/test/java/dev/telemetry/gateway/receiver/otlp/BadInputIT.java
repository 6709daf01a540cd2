package dev.telemetry.gateway.receiver.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.Status;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.Payloads;
import dev.telemetry.gateway.testing.RawGrpc;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every kind of bad request gets the OTLP-specified status with a clear message, is counted with a reason, and
 * leaves the gateway serving: after each one, a valid request from the same test succeeds and is delivered.
 */
class BadInputIT {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"},
          "max_request_bytes": "64KiB", "max_decompressed_bytes": "1MiB"}},
        "exporters": {"file": {"type": "file", "directory": "{{DIR}}", "batch": {"timeout": "10ms"}}},
        "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["file"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "warn"}
      }""";

  @TempDir
  static Path dir;
  static GatewayHarness gw;
  static RawGrpc grpc;
  static final HttpClient http = HttpClient.newHttpClient();
  static int validSent;

  @BeforeAll
  static void start() throws Exception {
    gw = GatewayHarness.start(CONFIG, Map.of("DIR", dir.toString()));
    grpc = new RawGrpc(gw.vertx, gw.grpcPort);
  }

  @AfterAll
  static void stop() throws Exception {
    grpc.close();
    gw.close();
  }

  /** After every bad request: a good one still works, over both transports. */
  @AfterEach
  void validRequestStillSucceeds() throws Exception {
    byte[] valid = Payloads.traces("after-bad-input", 2).toByteArray();
    assertThat(post("/v1/traces", "application/x-protobuf", null, valid).statusCode()).isEqualTo(200);
    assertThat(grpc.export(Signal.TRACES, Buffer.buffer(valid), "identity").status()).isEqualTo(GrpcStatus.OK);
    validSent += 4;
    Await.until(() -> "valid spans written to the file (" + validSent + ")", Duration.ofSeconds(10),
        () -> gw.counter("gateway.exporter.items.sent") >= validSent);
  }

  static HttpResponse<byte[]> post(String path, String contentType, String encoding, byte[] body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gw.httpBase() + path))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    if (encoding != null) {
      b.header("Content-Encoding", encoding);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
  }

  double refused(String transport, String reason) {
    return gw.counter("gateway.receiver.requests.refused", "transport", transport, "reason", reason);
  }

  static final byte[] MALFORMED_PROTOBUF = {0x0A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F, 0x01};

  @Test
  void malformedProtobufIs400WithStatusBody() throws Exception {
    HttpResponse<byte[]> r = post("/v1/traces", "application/x-protobuf", null, MALFORMED_PROTOBUF);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/x-protobuf");
    Status status = Status.parseFrom(r.body());
    assertThat(status.getCode()).isEqualTo(3);
    assertThat(status.getMessage()).startsWith("invalid OTLP protobuf");
    assertThat(refused("http", "malformed")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void invalidJsonIs400WithJsonStatusNamingTheProblem() throws Exception {
    HttpResponse<byte[]> r = post("/v1/traces", "application/json; charset=utf-8", null,
        "{\"resourceSpans\": [ {\"scopeSpans\": 7} ]}".getBytes());
    assertThat(r.statusCode()).isEqualTo(400);
    JsonObject body = new JsonObject(Buffer.buffer(r.body()));
    assertThat(body.getInteger("code")).isEqualTo(3);
    assertThat(body.getString("message")).contains("resourceSpans[0].scopeSpans: expected an array");

    HttpResponse<byte[]> broken = post("/v1/traces", "application/json", null, "{\"resourceSpans\": [".getBytes());
    assertThat(broken.statusCode()).isEqualTo(400);
    assertThat(new String(broken.body())).contains("invalid JSON");
  }

  @Test
  void wrongContentTypeIs415() throws Exception {
    HttpResponse<byte[]> r = post("/v1/traces", "text/plain", null, "hello".getBytes());
    assertThat(r.statusCode()).isEqualTo(415);
    assertThat(Status.parseFrom(r.body()).getMessage()).contains("unsupported Content-Type \"text/plain\"");
    assertThat(post("/v1/traces", null, null, new byte[0]).statusCode()).isEqualTo(415);
    assertThat(refused("http", "unsupported_media_type")).isGreaterThanOrEqualTo(2);
  }

  @Test
  void unsupportedContentEncodingIs415() throws Exception {
    HttpResponse<byte[]> r = post("/v1/traces", "application/x-protobuf", "br", new byte[] {1, 2, 3});
    assertThat(r.statusCode()).isEqualTo(415);
    assertThat(Status.parseFrom(r.body()).getMessage()).contains("Content-Encoding \"br\"");
  }

  @Test
  void oversizedBodyIs413BeforeReadingIt() throws Exception {
    HttpResponse<byte[]> r = post("/v1/traces", "application/x-protobuf", null, new byte[65 * 1024]);
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(Status.parseFrom(r.body()).getMessage()).contains("exceeds max_request_bytes (65536)");
    assertThat(refused("http", "too_large")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void oversizedChunkedBodyIs413WhileStreaming() throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/traces"))
        .header("Content-Type", "application/x-protobuf")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(new byte[512 * 1024])))
        .build();
    int status;
    try {
      status = http.send(req, HttpResponse.BodyHandlers.ofByteArray()).statusCode();
    } catch (java.io.IOException e) {
      status = 413; // the gateway closed the connection after answering; the client may see only the close
    }
    assertThat(status).isEqualTo(413);
    Await.until("too_large counted", Duration.ofSeconds(5), () -> refused("http", "too_large") >= 1);
  }

  @Test
  void gzipBombIs413AndCostsAtMostTheLimit() throws Exception {
    byte[] smallBomb = Payloads.gzipBomb(50 * 1024 * 1024); // 50 MiB inflated, ~50 KiB on the wire
    assertThat(smallBomb.length).isLessThan(64 * 1024);
    HttpResponse<byte[]> r = post("/v1/traces", "application/x-protobuf", "gzip", smallBomb);
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(Status.parseFrom(r.body()).getMessage()).contains("max_decompressed_bytes");
    assertThat(refused("http", "decompressed_too_large")).isGreaterThanOrEqualTo(1);
  }

  /** zstd, deflate and both snappy formats are accepted like gzip (the Collector's encodings), over HTTP and gRPC. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"zstd", "deflate", "snappy", "x-snappy-framed"})
  void everyCompressionTheCollectorAcceptsIsAccepted(String encoding) throws Exception {
    byte[] body = DecompressionTest.encode(encoding, Payloads.traces(encoding, 3).toByteArray());
    assertThat(post("/v1/traces", "application/x-protobuf", encoding, body).statusCode()).isEqualTo(200);
    validSent += 3;
    if (!encoding.equals("x-snappy-framed")) { // gRPC names no framed snappy
      byte[] msg = DecompressionTest.encode(encoding, Payloads.traces("grpc-" + encoding, 2).toByteArray());
      assertThat(grpc.exportFramed(gw.vertx, Signal.TRACES, Buffer.buffer(msg), encoding).status())
          .isEqualTo(GrpcStatus.OK);
      validSent += 2;
    }
  }

  /** The CVE-2024-36129 class: a small zstd body that would inflate to 50 MiB costs at most the limit. */
  @Test
  void zstdAndSnappyBombsAre413AndResourceExhausted() throws Exception {
    byte[] zstd = DecompressionTest.encode("zstd", new byte[50 * 1024 * 1024]);
    assertThat(zstd.length).isLessThan(64 * 1024);
    HttpResponse<byte[]> r = post("/v1/traces", "application/x-protobuf", "zstd", zstd);
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(Status.parseFrom(r.body()).getMessage()).contains("max_decompressed_bytes");
    RawGrpc.Result g = grpc.exportFramed(gw.vertx, Signal.TRACES, Buffer.buffer(zstd), "zstd");
    assertThat(g.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
    // A snappy block declaring 50 MiB is refused from its header, before anything is allocated.
    byte[] snappy = {(byte) 0x80, (byte) 0x80, (byte) 0x80, 0x19, 0, 0, 0};
    assertThat(post("/v1/traces", "application/x-protobuf", "snappy", snappy).statusCode()).isEqualTo(413);
    // And the next well-behaved request is served.
    assertThat(post("/v1/traces", "application/x-protobuf", null, Payloads.traces("after-bomb", 1).toByteArray())
        .statusCode()).isEqualTo(200);
    validSent += 1;
  }

  @Test
  void invalidGzipIs400() throws Exception {
    HttpResponse<byte[]> r = post("/v1/traces", "application/x-protobuf", "gzip", "not gzip".getBytes());
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(Status.parseFrom(r.body()).getMessage()).contains("not valid gzip");
  }

  @Test
  void gzipProtobufAndJsonAreAccepted() throws Exception {
    ExportTraceServiceRequest req = Payloads.traces("gzip-ok", 3);
    assertThat(post("/v1/traces", "application/x-protobuf", "gzip", Payloads.gzip(req.toByteArray())).statusCode())
        .isEqualTo(200);
    byte[] json = dev.telemetry.gateway.otlp.OtlpJson.write(req);
    HttpResponse<byte[]> r = post("/v1/traces", "application/json", "gzip", Payloads.gzip(json));
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new String(r.body())).isEqualTo("{}");
    validSent += 6;
  }

  @Test
  void responsesAreCompressedWhenTheClientAsks() throws Exception {
    // A request with one invalid span: the answer carries a partial success worth compressing.
    ExportTraceServiceRequest req = Payloads.traces("zip-answer", 2);
    ExportTraceServiceRequest partlyBad = req.toBuilder().setResourceSpans(0, req.getResourceSpans(0).toBuilder()
        .setScopeSpans(0, req.getResourceSpans(0).getScopeSpans(0).toBuilder().setSpans(1,
            req.getResourceSpans(0).getScopeSpans(0).getSpans(1).toBuilder()
                .setSpanId(com.google.protobuf.ByteString.copyFrom(new byte[3]))))).build();
    HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/traces"))
        .header("Content-Type", "application/x-protobuf").header("Accept-Encoding", "gzip")
        .POST(HttpRequest.BodyPublishers.ofByteArray(partlyBad.toByteArray())).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-encoding")).hasValue("gzip");
    byte[] answer = new java.util.zip.GZIPInputStream(new ByteArrayInputStream(r.body())).readAllBytes();
    assertThat(io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse.parseFrom(answer)
        .getPartialSuccess().getRejectedSpans()).isEqualTo(1);
    // gRPC, read frame by frame: the answer is one message with the compressed flag, valid gzip.
    io.vertx.core.http.HttpClient h2 = gw.vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions()
        .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    try {
      byte[] gz = Payloads.gzip(partlyBad.toByteArray());
      io.vertx.core.http.HttpClientResponse resp = h2.request(new io.vertx.core.http.RequestOptions()
              .setMethod(io.vertx.core.http.HttpMethod.POST).setHost("127.0.0.1").setPort(gw.grpcPort)
              .setURI("/" + Signal.TRACES.grpcService() + "/Export"))
          .compose(call -> call.putHeader("content-type", "application/grpc").putHeader("te", "trailers")
              .putHeader("grpc-encoding", "gzip").putHeader("grpc-accept-encoding", "gzip")
              .send(Buffer.buffer().appendByte((byte) 1).appendInt(gz.length).appendBytes(gz))
              .compose(res -> res.body().map(body -> {
                res.headers().set("x-test-body", java.util.Base64.getEncoder().encodeToString(body.getBytes()));
                return res;
              })))
          .await(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(resp.headers().get("grpc-encoding")).isEqualTo("gzip");
      byte[] frame = java.util.Base64.getDecoder().decode(resp.headers().get("x-test-body"));
      assertThat(frame[0]).as("compressed flag").isEqualTo((byte) 1);
      byte[] inflated = new java.util.zip.GZIPInputStream(new ByteArrayInputStream(frame, 5, frame.length - 5))
          .readAllBytes();
      assertThat(io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse.parseFrom(inflated)
          .getPartialSuccess().getRejectedSpans()).isEqualTo(1);
    } finally {
      h2.close().await(10, java.util.concurrent.TimeUnit.SECONDS);
    }
    validSent += 2;
  }

  @Test
  void unknownPathIs404AndWrongMethodIs405() throws Exception {
    assertThat(post("/v1/spans", "application/x-protobuf", null, new byte[0]).statusCode()).isEqualTo(404);
    // metrics has no pipeline in this config
    assertThat(post("/v1/metrics", "application/x-protobuf", null, new byte[0]).statusCode()).isEqualTo(404);
    HttpResponse<String> get = http.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/traces")).GET()
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(get.headers().firstValue("allow")).hasValue("POST");
  }

  @Test
  void grpcMalformedMessageIsInvalidArgument() throws Exception {
    RawGrpc.Result r = grpc.export(Signal.TRACES, Buffer.buffer(MALFORMED_PROTOBUF), "identity");
    assertThat(r.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(r.message()).contains("invalid OTLP message");
    assertThat(refused("grpc", "malformed")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void grpcGzipBombIsResourceExhaustedWithoutRetryInfo() throws Exception {
    RawGrpc.Result r = grpc.export(Signal.TRACES, Buffer.buffer(Payloads.gzipBomb(50 * 1024 * 1024)), "gzip");
    assertThat(r.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
    assertThat(r.message()).contains("max_decompressed_bytes");
    assertThat(r.trailers().get("grpc-status-details-bin")).isNull();
    assertThat(r.headers().get("grpc-status-details-bin")).isNull();
    assertThat(refused("grpc", "decompressed_too_large")).isGreaterThanOrEqualTo(1);
  }

  @Test
  void grpcOversizedMessageIsResourceExhausted() throws Exception {
    RawGrpc.Result r = grpc.export(Signal.TRACES, Buffer.buffer(new byte[100 * 1024]), "identity");
    assertThat(r.status()).isEqualTo(GrpcStatus.RESOURCE_EXHAUSTED);
  }

  @Test
  void grpcGzipMessageIsAccepted() throws Exception {
    byte[] gz = Payloads.gzip(Payloads.traces("grpc-gzip", 2).toByteArray());
    assertThat(grpc.export(Signal.TRACES, Buffer.buffer(gz), "gzip").status()).isEqualTo(GrpcStatus.OK);
    validSent += 2;
  }

  @Test
  void grpcUnconfiguredSignalIsUnimplemented() throws Exception {
    assertThat(grpc.export(Signal.LOGS, Buffer.buffer(new byte[0]), "identity").status())
        .isEqualTo(GrpcStatus.UNIMPLEMENTED);
  }

  @Test
  void validDataLandsInTheFileAsOtlpJsonLines() throws Exception {
    Await.until("traces.jsonl written", Duration.ofSeconds(10), () -> Files.exists(dir.resolve("traces.jsonl")));
    for (String line : Files.readAllLines(dir.resolve("traces.jsonl"))) {
      ExportTraceServiceRequest r = (ExportTraceServiceRequest) dev.telemetry.gateway.otlp.OtlpJson.parse(
          line.getBytes(), Signal.TRACES.newRequestBuilder());
      assertThat(Signal.TRACES.itemCount(r)).isPositive();
    }
  }
}
