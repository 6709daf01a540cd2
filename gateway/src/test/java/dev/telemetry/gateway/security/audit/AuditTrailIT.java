package dev.telemetry.gateway.security.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.testing.Await;
import dev.telemetry.gateway.testing.Certificates;
import dev.telemetry.gateway.testing.GatewayHarness;
import dev.telemetry.gateway.testing.Payloads;
import dev.telemetry.gateway.testing.Tokens;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API over HTTPS with roles, and the audit trail: a read-only token may read but not change the routing
 * table, a change token may; every call (who, what, outcome), the routing table versions and a summary of
 * authentication failures land in the hash-chained audit log, which {@code audit-verify} (the real jar) finds intact
 * and, once a line is edited, broken at that line.
 */
class AuditTrailIT {
  static final Path JAR = Path.of(System.getProperty("gateway.jar", "target/telemetry-gateway.jar"));
  static final String READER = "reader-token-0123456789abcdef";
  static final String CHANGER = "changer-token-0123456789abcdef";
  static final String SENDER = "sender-token-0123456789abcdef";
  static final String CONFIG = """
      {
        "receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:{{GRPC}}"},
                               "http": {"endpoint": "127.0.0.1:{{HTTP}}"}}},
        "exporters": {"f": {"type": "file", "directory": "{{DIR}}/out"}},
        "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["f"]}},
        "routing": {"file": "{{ROUTES}}", "watch_interval": "0s"},
        "auth": {"tokens": [{"name": "sender", "sha256": "{{SENDER}}", "tenant": "t"}]},
        "audit": {"file": "{{DIR}}/audit.jsonl"},
        "admin": {"endpoint": "127.0.0.1:{{ADMIN}}",
                  "tokens": [{"name": "grafana", "sha256": "{{READER}}", "role": "read"},
                             {"name": "sre-alice", "sha256": "{{CHANGER}}", "role": "change"}],
                  "tls": {"cert_file": "{{CERT}}", "key_file": "{{KEY}}"}},
        "logging": {"level": "warn"}
      }""";

  @TempDir
  Path tmp;

  @Test
  void rolesAreEnforcedAndEveryChangeIsInAChainThatDetectsTampering() throws Exception {
    Certificates pki = new Certificates(tmp.resolve("pki"), "test-ca").server("server", 2);
    Path routes = tmp.resolve("routes.json");
    Files.writeString(routes, "{\"rules\": []}");
    Path audit = tmp.resolve("audit.jsonl");
    try (GatewayHarness gw = GatewayHarness.start(CONFIG, Map.of("DIR", tmp.toString(), "ROUTES", routes.toString(),
        "READER", Tokens.sha256(READER), "CHANGER", Tokens.sha256(CHANGER), "SENDER", Tokens.sha256(SENDER),
        "CERT", pki.cert("server").toString(), "KEY", pki.key("server").toString()))) {
      HttpClient https = HttpClient.newBuilder().sslContext(trusting(pki.caCert())).build();
      String base = "https://localhost:" + gw.adminPort;
      String table = "{\"rules\": [{\"id\": \"drop-health\", \"match\": {\"signal\": \"traces\", \"span_name\": "
          + "\"GET /health\"}, \"drop\": true}]}";
      assertThat(send(https, base, "GET", "/api/v1/routes", READER, null).statusCode()).isEqualTo(200);
      HttpResponse<String> denied = send(https, base, "PUT", "/api/v1/routes", READER, table);
      assertThat(denied.statusCode()).isEqualTo(403);
      assertThat(denied.body()).contains("token grafana may only read (role read)");
      assertThat(send(https, base, "PUT", "/api/v1/routes", CHANGER, table).statusCode()).isEqualTo(200);
      assertThat(send(https, base, "GET", "/api/v1/routes", "wrong-token-0123456789", null).statusCode())
          .isEqualTo(401);
      // Two requests with a bad credential: one summary line, at the latest when the gateway stops.
      HttpClient plain = HttpClient.newHttpClient();
      for (int i = 0; i < 2; i++) {
        HttpResponse<String> r = plain.send(HttpRequest.newBuilder(URI.create(gw.httpBase() + "/v1/traces"))
            .header("Content-Type", "application/x-protobuf").header("Authorization", "Bearer nope")
            .POST(HttpRequest.BodyPublishers.ofByteArray(Payloads.traces("s", 1).toByteArray())).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(401);
      }
    }
    List<JsonObject> entries = Files.readAllLines(audit).stream().map(JsonObject::new).toList();
    assertThat(entries).anySatisfy(e -> {
      assertThat(e.getString("kind")).isEqualTo("admin");
      assertThat(e.getString("actor")).startsWith("token grafana from ");
      assertThat(e.getString("action")).isEqualTo("PUT /api/v1/routes");
      assertThat(e.getString("outcome")).isEqualTo("denied");
    });
    assertThat(entries).anySatisfy(e -> {
      assertThat(e.getString("actor")).startsWith("token sre-alice from ");
      assertThat(e.getString("action")).isEqualTo("PUT /api/v1/routes");
      assertThat(e.getString("outcome")).isEqualTo("ok");
    });
    assertThat(entries).anySatisfy(e -> {
      assertThat(e.getString("kind")).isEqualTo("routing");
      assertThat(e.getString("detail")).contains("routing table version 2 applied").contains("added [drop-health]");
    });
    assertThat(entries).anySatisfy(e -> {
      assertThat(e.getString("kind")).isEqualTo("auth");
      assertThat(e.getString("detail")).isEqualTo("{otlp/invalid_token=2}");
    });
    assertThat(entries.get(0).getString("action")).isEqualTo("start");
    assertThat(entries.get(entries.size() - 1).getString("action")).isEqualTo("stop");

    Result ok = verify(audit);
    assertThat(ok.exit).as(ok.output).isZero();
    assertThat(ok.output).contains(entries.size() + " entries, chain intact");
    List<String> lines = Files.readAllLines(audit);
    int victim = 3;
    lines.set(victim - 1, lines.get(victim - 1).replace("\"outcome\":\"", "\"outcome\":\"x"));
    Files.write(audit, lines);
    Result broken = verify(audit);
    assertThat(broken.exit).as(broken.output).isEqualTo(1);
    assertThat(broken.output).contains("chain broken at line " + victim);
  }

  record Result(int exit, String output) {
  }

  static Result verify(Path file) throws Exception {
    Process p = new ProcessBuilder("java", "-jar", JAR.toString(), "audit-verify", file.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out);
  }

  static HttpResponse<String> send(HttpClient c, String base, String method, String path, String token,
                                   String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/json").timeout(Duration.ofSeconds(10));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return c.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static SSLContext trusting(Path ca) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(ca)) {
      trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

}
