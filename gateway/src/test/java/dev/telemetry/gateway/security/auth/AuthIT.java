package dev.telemetry.gateway.security.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.Code;
import com.google.rpc.Status;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.testing.SdkExports;
import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Certificates;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.OtlpSink;
import dev.telemetry.gateway.testing.Payloads;
import dev.telemetry.gateway.testing.Ports;
import dev.telemetry.gateway.testing.RawGrpc;
import dev.telemetry.gateway.testing.Tokens;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.exporter.otlp.trace.OtlpGrpcSpanExporter;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.grpc.common.GrpcStatus;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authenticated tenants end to end, with the OpenTelemetry Java SDK's exporters over gRPC and HTTP: a bearer token,
 * a JWT and a client certificate each send as their own tenant — a client header naming another tenant changes
 * nothing — and a bad, missing or expired credential is refused (401 / UNAUTHENTICATED), a credential without the
 * signal too (403 / PERMISSION_DENIED); a token added to the tokens file works without a restart.
 */
class AuthIT {
  static final String SHOP_TOKEN = "shop-token-0123456789abcdef";
  static final String BATCH_TOKEN = "batch-token-0123456789abcdef";
  static final String LATE_TOKEN = "late-token-0123456789abcdef";
  static final String CONFIG = """
      {
        "receivers": {
          "otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"},
                   "http": {"endpoint": "127.0.0.1:{{HTTP}}"}},
          "mtls": {"type": "otlp", "grpc": false, "http": {"endpoint": "127.0.0.1:{{MTLS}}",
                   "tls": {"cert_file": "{{CERT}}", "key_file": "{{KEY}}", "client_ca_file": "{{CA}}"}}}},
        "exporters": {
          "shop": {"type": "otlp", "endpoint": "{{SHOP}}", "batch": {"timeout": "5ms"}},
          "payments": {"type": "otlp", "endpoint": "{{PAYMENTS}}", "batch": {"timeout": "5ms"}},
          "others": {"type": "otlp", "endpoint": "{{OTHERS}}", "batch": {"timeout": "5ms"}}},
        "pipelines": {
          "traces": {"receivers": ["otlp", "mtls"], "exporters": ["shop", "payments", "others"]},
          "logs": {"receivers": ["otlp"], "exporters": ["others"]}},
        "routing": {"file": "{{ROUTES}}", "watch_interval": "0s"},
        "auth": {
          "tokens": [{"name": "shop-prod", "sha256": "{{SHOP_SHA}}", "tenant": "shop", "signals": ["traces"]},
                     {"name": "batch-logs", "sha256": "{{BATCH_SHA}}", "tenant": "batch", "signals": ["logs"]}],
          "tokens_file": "{{TOKENS}}", "reload_interval": "500ms",
          "client_certificates": [{"common_name": "payments-service", "tenant": "payments"}],
          "jwt": {"jwks_file": "{{JWKS}}", "issuer": "https://login.example.com/", "audience": "telemetry-gateway"}},
        "logging": {"level": "error"}
      }""";
  static final String ROUTES = """
      {"tenant": {"header": "X-Scope-OrgID", "attribute": "tenant.id"},
       "rules": [{"id": "shop", "match": {"signal": "traces", "tenant": "shop"}, "exporters": ["shop"]},
                 {"id": "payments", "match": {"signal": "traces", "tenant": "payments"}, "exporters": ["payments"]}],
       "default": {"traces": {"exporters": ["others"]}, "logs": {"exporters": ["others"]}}}""";

  @TempDir
  Path tmp;
  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void everyCredentialSendsAsItsOwnTenantAndNothingElseGetsIn() throws Exception {
    Certificates pki = new Certificates(tmp.resolve("pki"), "test-ca").server("server", 2)
        .client("payments", "payments-service").client("stranger", "stranger-service");
    KeyPair idp = KeyPairGenerator.getInstance("EC").generateKeyPair();
    KeyPair rogue = KeyPairGenerator.getInstance("EC").generateKeyPair();
    Path jwks = tmp.resolve("jwks.json");
    Files.writeString(jwks, new JsonObject().put("keys", new JsonArray().add(jwk((ECPublicKey) idp.getPublic(),
        "idp-1"))).encode());
    Path tokens = tmp.resolve("tokens.json");
    Files.writeString(tokens, "{\"tokens\": []}");
    Path routes = tmp.resolve("routes.json");
    Files.writeString(routes, ROUTES);
    Vertx vertx = Vertx.vertx();
    OtlpSink shop = new OtlpSink(vertx, Ports.free()).start();
    OtlpSink payments = new OtlpSink(vertx, Ports.free()).start();
    OtlpSink others = new OtlpSink(vertx, Ports.free()).start();
    int mtlsPort = Ports.free();
    try (GatewayHarness gw = GatewayHarness.start(CONFIG, Map.ofEntries(Map.entry("MTLS", String.valueOf(
            mtlsPort)), Map.entry("CERT", pki.cert("server").toString()),
            Map.entry("KEY", pki.key("server").toString()), Map.entry("CA", pki.caCert().toString()),
            Map.entry("SHOP", shop.endpoint()), Map.entry("PAYMENTS", payments.endpoint()),
            Map.entry("OTHERS", others.endpoint()), Map.entry("ROUTES", routes.toString()),
            Map.entry("SHOP_SHA", Tokens.sha256(SHOP_TOKEN)), Map.entry("BATCH_SHA", Tokens.sha256(BATCH_TOKEN)),
            Map.entry("TOKENS", tokens.toString()), Map.entry("JWKS", jwks.toString())));
         RawGrpc grpc = new RawGrpc(vertx, gw.grpcPort)) {
      String grpcUrl = "http://127.0.0.1:" + gw.grpcPort;
      String httpUrl = "http://127.0.0.1:" + gw.httpPort + "/v1/traces";
      // The shop's token, with a header naming the payments tenant: the spans are the shop's.
      Map<String, String> spoof = Map.of("Authorization", "Bearer " + SHOP_TOKEN, "X-Scope-OrgID", "payments");
      assertThat(SdkExports.exportSpan(OtlpGrpcSpanExporter.builder().setEndpoint(grpcUrl).setHeaders(() -> spoof)
          .build(), "shop-grpc")).isTrue();
      assertThat(SdkExports.exportSpan(OtlpHttpSpanExporter.builder().setEndpoint(httpUrl).setHeaders(() -> spoof)
          .build(), "shop-http")).isTrue();
      Await.until("the shop's spans at the shop's backend", Duration.ofSeconds(10),
          () -> shop.items(Signal.TRACES) == 2);

      // A JWT of the identity provider for the payments tenant; expired, for another audience, or signed by
      // another key: refused.
      String good = jwt(idp, "idp-1", "payments", "telemetry-gateway", Instant.now().plusSeconds(300));
      assertThat(SdkExports.exportSpan(OtlpHttpSpanExporter.builder().setEndpoint(httpUrl)
          .setHeaders(() -> Map.of("Authorization", "Bearer " + good)).build(), "payments-jwt")).isTrue();
      Await.until("the JWT's spans at the payments backend", Duration.ofSeconds(10),
          () -> payments.items(Signal.TRACES) == 1);
      assertThat(status(post(gw, "Bearer " + jwt(idp, "idp-1", "payments", "telemetry-gateway",
          Instant.now().minusSeconds(3600))))).isEqualTo(401);
      assertThat(status(post(gw, "Bearer " + jwt(idp, "idp-1", "payments", "someone-else",
          Instant.now().plusSeconds(300))))).isEqualTo(401);
      assertThat(status(post(gw, "Bearer " + jwt(rogue, "idp-1", "payments", "telemetry-gateway",
          Instant.now().plusSeconds(300))))).isEqualTo(401);

      // Mutual TLS: the certificate's common name is the credential.
      byte[] ca = Files.readAllBytes(pki.caCert());
      String mtlsUrl = "https://localhost:" + mtlsPort + "/v1/traces";
      assertThat(SdkExports.exportSpan(OtlpHttpSpanExporter.builder().setEndpoint(mtlsUrl).setTrustedCertificates(ca)
          .setClientTls(Files.readAllBytes(pki.key("payments")), Files.readAllBytes(pki.cert("payments")))
          .setHeaders(() -> Map.of("X-Scope-OrgID", "shop")).build(), "payments-mtls")).isTrue();
      Await.until("the certificate's spans at the payments backend", Duration.ofSeconds(10),
          () -> payments.items(Signal.TRACES) == 2);
      assertThat(SdkExports.exportSpan(OtlpHttpSpanExporter.builder().setEndpoint(mtlsUrl).setTrustedCertificates(ca)
          .setClientTls(Files.readAllBytes(pki.key("stranger")), Files.readAllBytes(pki.cert("stranger"))).build(),
          "stranger")).as("a certificate of the CA mapped to no tenant").isFalse();

      // Wrong, missing, malformed credentials: 401 / UNAUTHENTICATED, over both transports.
      HttpResponse<byte[]> wrong = post(gw, "Bearer not-a-token");
      assertThat(wrong.statusCode()).isEqualTo(401);
      assertThat(wrong.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"otlp\"");
      Status s = Status.parseFrom(wrong.body());
      assertThat(s.getCode()).isEqualTo(Code.UNAUTHENTICATED_VALUE);
      assertThat(s.getMessage()).isEqualTo("the bearer token is not valid");
      assertThat(status(post(gw, null))).isEqualTo(401);
      assertThat(status(post(gw, "Basic dXNlcjpwYXNz"))).isEqualTo(401);
      Buffer payload = Buffer.buffer(Payloads.traces("svc", 3).toByteArray());
      assertThat(grpc.export(Signal.TRACES, payload, "identity", Map.of("authorization", "Bearer nope")).status())
          .isEqualTo(GrpcStatus.UNAUTHENTICATED);
      assertThat(grpc.export(Signal.TRACES, payload, "identity", Map.of()).status())
          .isEqualTo(GrpcStatus.UNAUTHENTICATED);
      // A credential without the signal: 403 / PERMISSION_DENIED.
      HttpResponse<byte[]> forbidden = post(gw, "Bearer " + BATCH_TOKEN);
      assertThat(forbidden.statusCode()).isEqualTo(403);
      assertThat(Status.parseFrom(forbidden.body()).getMessage())
          .isEqualTo("credential \"batch-logs\" may not send traces");
      assertThat(grpc.export(Signal.TRACES, payload, "identity", Map.of("authorization", "Bearer " + BATCH_TOKEN))
          .status()).isEqualTo(GrpcStatus.PERMISSION_DENIED);

      // A token added to the tokens file works without a restart.
      assertThat(status(post(gw, "Bearer " + LATE_TOKEN))).isEqualTo(401);
      Files.writeString(tokens, new JsonObject().put("tokens", new JsonArray().add(new JsonObject()
          .put("name", "late").put("sha256", Tokens.sha256(LATE_TOKEN)).put("tenant", "shop"))).encode());
      Await.until("the new token accepted", Duration.ofSeconds(10),
          () -> status(post(gw, "Bearer " + LATE_TOKEN)) == 200);
      Await.until("its spans at the shop's backend", Duration.ofSeconds(10), () -> shop.items(Signal.TRACES) == 7);

      assertThat(others.items(Signal.TRACES)).as("nothing reached another tenant's backend").isZero();
      assertThat(gw.counter("gateway.auth.failures", "receiver", "otlp", "reason", "invalid_token"))
          .isGreaterThanOrEqualTo(2);
      assertThat(gw.counter("gateway.auth.failures", "receiver", "otlp", "reason", "signal_not_allowed"))
          .isEqualTo(2);
      assertThat(gw.counter("gateway.auth.failures", "receiver", "otlp", "reason", "jwt_expired")).isEqualTo(1);
    } finally {
      shop.close();
      payments.close();
      others.close();
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  int status(HttpResponse<byte[]> r) {
    return r.statusCode();
  }

  HttpResponse<byte[]> post(GatewayHarness gw, String authorization) {
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/traces"))
          .header("Content-Type", "application/x-protobuf")
          .POST(HttpRequest.BodyPublishers.ofByteArray(Payloads.traces("svc", 5).toByteArray()));
      if (authorization != null) {
        b.header("Authorization", authorization);
      }
      return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }


  static JsonObject jwk(ECPublicKey key, String kid) {
    return new JsonObject().put("kty", "EC").put("crv", "P-256").put("kid", kid)
        .put("x", b64(unsigned(key.getW().getAffineX()))).put("y", b64(unsigned(key.getW().getAffineY())));
  }

  static byte[] unsigned(BigInteger v) {
    byte[] b = v.toByteArray();
    byte[] out = new byte[32];
    System.arraycopy(b, Math.max(0, b.length - 32), out, Math.max(0, 32 - b.length), Math.min(32, b.length));
    return out;
  }

  static String b64(byte[] b) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  static String jwt(KeyPair key, String kid, String tenant, String audience, Instant expires) throws Exception {
    String header = b64(new JsonObject().put("alg", "ES256").put("typ", "JWT").put("kid", kid).encode()
        .getBytes(StandardCharsets.UTF_8));
    String claims = b64(new JsonObject().put("iss", "https://login.example.com/").put("aud", audience)
        .put("sub", "svc-" + tenant).put("tenant", tenant).put("exp", expires.getEpochSecond())
        .put("iat", Instant.now().getEpochSecond()).encode().getBytes(StandardCharsets.UTF_8));
    Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
    s.initSign(key.getPrivate());
    s.update((header + "." + claims).getBytes(StandardCharsets.US_ASCII));
    return header + "." + claims + "." + b64(s.sign());
  }
}
