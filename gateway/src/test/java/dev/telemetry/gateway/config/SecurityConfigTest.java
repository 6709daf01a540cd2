package dev.telemetry.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.receiver.otlp.OtlpReceiverConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The auth, audit, admin token and listener TLS settings: defaults, and every problem at once with its path. */
class SecurityConfigTest {
  final ConfigLoader loader = dev.telemetry.gateway.component.Components.BUILT_IN.configLoader(k -> null);
  static final String BASE = """
      {"receivers": {"otlp": {"type": "otlp", "grpc": {"endpoint": "127.0.0.1:4317",
          "tls": {"cert_file": "s.crt", "key_file": "s.key", "client_ca_file": "ca.crt"}}}},
       "exporters": {"f": {"type": "file", "directory": "d"}},
       "pipelines": {"traces": {"receivers": ["otlp"], "exporters": ["f"]}}%s}""";
  static final String SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

  List<String> problems(String sections) {
    try {
      loader.parse(BASE.formatted(sections), Path.of("."));
    } catch (ConfigException e) {
      return e.problems();
    }
    throw new AssertionError("expected the config to be rejected");
  }

  @Test
  void defaults() throws Exception {
    GatewayConfig c = loader.parse(BASE.formatted("""
        , "auth": {"tokens": [{"name": "a", "sha256": "%s", "tenant": "t", "signals": ["traces"]}],
                   "jwt": {"jwks_file": "k.json", "issuer": "i", "audience": "a"}},
          "audit": {"file": "audit.jsonl"},
          "admin": {"tokens": [{"name": "g", "sha256": "%s"}]}""".formatted(SHA, SHA)), Path.of("."));
    TlsServerConfig tls = ((OtlpReceiverConfig) c.receivers().get("otlp")).grpcTls();
    assertThat(tls.minVersion()).isEqualTo("1.2");
    assertThat(tls.protocols()).containsExactlyInAnyOrder("TLSv1.2", "TLSv1.3");
    assertThat(tls.reloadInterval()).isEqualTo(Duration.ofMinutes(1));
    assertThat(tls.clientCaFile()).isEqualTo(Path.of("ca.crt"));
    AuthConfig auth = c.authConfig().orElseThrow();
    assertThat(auth.tokens().get(0).signals()).isEqualTo(Set.of(Signal.TRACES));
    assertThat(auth.jwt().tenantClaim()).isEqualTo("tenant");
    assertThat(auth.jwt().clockSkew()).isEqualTo(Duration.ofSeconds(60));
    assertThat(c.auditFileConfig()).hasValue(Path.of("audit.jsonl"));
    assertThat(c.admin().tokens().get(0).role()).isEqualTo(AdminConfig.Role.READ);
    assertThat(c.admin().apiEnabled()).isTrue();
  }

  @Test
  void everyProblemIsNamedByItsPath() {
    assertThat(problems("""
        , "auth": {"tokens": [{"name": "a", "sha256": "secret-in-clear", "tenant": "t", "signals": ["spans"]},
                              {"name": "a", "tenant": "t"}],
                   "jwt": {"issuer": "i"}},
          "audit": {},
          "admin": {"tokens": [{"name": "g", "sha256": "x", "role": "root"}],
                    "tls": {"cert_file": "c", "min_version": "1.1"}}""")).containsExactlyInAnyOrder(
        "auth.tokens[0].sha256: expected 64 hex digits (the SHA-256 of the token, not the token), found 15 "
            + "characters",
        "auth.tokens[0].signals: unknown signal \"spans\" (traces, metrics, logs)",
        "auth.tokens[1].name: \"a\" is used by another token: names must be unique",
        "auth.tokens[1].sha256: required: the token's SHA-256 in hex (`printf %s \"$TOKEN\" | sha256sum`)",
        "auth.jwt.jwks_file: required: a JSON Web Key Set file (the identity provider's keys)",
        "auth.jwt.audience: required: the tokens' aud, e.g. \"telemetry-gateway\"",
        "audit.file: required: where the audit log is appended, e.g. \"/var/lib/telemetry-gateway/audit.jsonl\"",
        "admin.tokens[0].sha256: required: the token's SHA-256 in hex (`printf %s \"$TOKEN\" | sha256sum`)",
        "admin.tokens[0].role: \"root\" is not one of read, change",
        "admin.tls.key_file: required: the server's private key (PEM, PKCS#8 or PKCS#1)",
        "admin.tls.min_version: expected \"1.2\" or \"1.3\", found \"1.1\"");
    assertThat(problems(", \"auth\": {}")).containsExactly(
        "auth: no credential is configured: set tokens, tokens_file, client_certificates and/or jwt");
  }
}
