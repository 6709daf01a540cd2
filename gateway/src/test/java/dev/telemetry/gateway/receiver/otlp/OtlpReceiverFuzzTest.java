package dev.telemetry.gateway.receiver.otlp;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.GatewayHarness;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The receivers' whole request path on a running gateway, from the bytes on the wire: for gRPC the message framing
 * (length prefixes, the compressed flag, several or truncated frames) with any grpc-encoding; for HTTP any path,
 * content type, content coding and body. Every request gets an answer with an OTLP status — never INTERNAL/UNKNOWN
 * or a 500, never a hang — and no event loop is blocked (checked when the gateway stops).
 */
class OtlpReceiverFuzzTest {
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp",
          "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"}, "http": {"endpoint": "127.0.0.1:{{HTTP}}"},
          "max_request_bytes": "64KiB", "max_decompressed_bytes": "1MiB"}},
        "exporters": {"file": {"type": "file", "directory": "{{DIR}}", "batch": {"timeout": "10ms"}}},
        "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["file"]},
                      "metrics": {"receivers": ["otlp"], "exporters": ["file"]},
                      "logs": {"receivers": ["otlp"], "exporters": ["file"]}},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}"},
        "logging": {"level": "error"}
      }""";
  private static final List<String> GRPC_ENCODINGS = Arrays.asList("identity", "gzip", "zstd", "deflate", "snappy",
      "br", null);
  private static final List<String> GRPC_TYPES = List.of("application/grpc", "application/grpc+proto",
      "application/grpc+json", "application/grpc+thrift");
  private static final Set<Integer> GRPC_ANSWERS = Set.of(0, 3, 8, 12, 14); // OK, INVALID_ARGUMENT,
  // RESOURCE_EXHAUSTED, UNIMPLEMENTED, UNAVAILABLE
  private static final List<String> HTTP_PATHS = List.of("/v1/traces", "/v1/metrics", "/v1/logs", "/v1/profiles");
  private static final List<String> HTTP_TYPES = Arrays.asList("application/x-protobuf", "application/json",
      "application/json; charset=utf-8", "text/plain", null);
  private static final List<String> HTTP_ENCODINGS = Arrays.asList(null, "gzip", "zstd", "deflate", "snappy",
      "x-snappy-framed", "br", "identity");
  private static final Set<Integer> HTTP_ANSWERS = Set.of(200, 400, 404, 413, 415, 429, 503);

  static Path dir;
  static GatewayHarness gw;
  static HttpClient h2;
  static HttpClient h1;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("receiver-fuzz");
    gw = GatewayHarness.start(CONFIG, Map.of("DIR", dir.toString()));
    h2 = gw.vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
        .setHttp2ClearTextUpgrade(false).setDefaultHost("127.0.0.1").setDefaultPort(gw.grpcPort));
    h1 = gw.vertx.createHttpClient(new HttpClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(gw.httpPort));
    // Warm up first: when fuzzing, the first requests load (and instrument) the decoders, which takes seconds.
    for (Signal signal : Signal.values()) {
      byte[] empty = signal.emptyRequest().toByteArray();
      h1.request(new RequestOptions().setMethod(HttpMethod.POST).setURI(signal.httpPath()))
          .compose(req -> req.putHeader("content-type", "application/x-protobuf").send(Buffer.buffer(empty))
              .compose(r -> r.body())).await(60, TimeUnit.SECONDS);
      h2.request(new RequestOptions().setMethod(HttpMethod.POST).setURI("/" + signal.grpcService() + "/Export"))
          .compose(req -> req.putHeader("content-type", "application/grpc").putHeader("te", "trailers")
              .send(Buffer.buffer().appendByte((byte) 0).appendInt(empty.length).appendBytes(empty))
              .compose(r -> r.body())).await(60, TimeUnit.SECONDS);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    h2.close().await(10, TimeUnit.SECONDS);
    h1.close().await(10, TimeUnit.SECONDS);
    gw.close(); // fails if an event loop was blocked
  }

  @FuzzTest(maxDuration = "5m")
  void grpc(FuzzedDataProvider data) throws Exception {
    Signal signal = data.pickValue(Signal.values());
    String encoding = data.pickValue(GRPC_ENCODINGS);
    String type = data.pickValue(GRPC_TYPES);
    byte[] body = data.consumeRemainingAsBytes();
    HttpClientResponse resp = h2.request(new RequestOptions().setMethod(HttpMethod.POST)
            .setURI("/" + signal.grpcService() + "/Export"))
        .compose(req -> {
          req.putHeader("content-type", type).putHeader("te", "trailers");
          if (encoding != null) {
            req.putHeader("grpc-encoding", encoding);
          }
          return req.send(Buffer.buffer(body)).compose(r -> r.body().map(b -> r));
        }).await(30, TimeUnit.SECONDS);
    if (type.endsWith("+thrift") && resp.statusCode() == 415) {
      return; // a format the server does not speak: 415, as the gRPC HTTP/2 protocol says
    }
    MultiMap where = resp.trailers().contains("grpc-status") ? resp.trailers() : resp.headers();
    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(where.get("grpc-status")).as("grpc-status").isNotNull();
    assertThat(Integer.parseInt(where.get("grpc-status"))).as("grpc-status %s: %s", where.get("grpc-status"),
        where.get("grpc-message")).isIn(GRPC_ANSWERS);
  }

  @FuzzTest(maxDuration = "5m")
  void http(FuzzedDataProvider data) throws Exception {
    String path = data.pickValue(HTTP_PATHS);
    String type = data.pickValue(HTTP_TYPES);
    String encoding = data.pickValue(HTTP_ENCODINGS);
    byte[] body = data.consumeRemainingAsBytes();
    HttpClientResponse resp = h1.request(new RequestOptions().setMethod(HttpMethod.POST).setURI(path))
        .compose(req -> {
          if (type != null) {
            req.putHeader("content-type", type);
          }
          if (encoding != null) {
            req.putHeader("content-encoding", encoding);
          }
          return req.send(Buffer.buffer(body)).compose(r -> r.body().map(b -> r));
        }).await(30, TimeUnit.SECONDS);
    assertThat(resp.statusCode()).isIn(HTTP_ANSWERS);
  }
}
