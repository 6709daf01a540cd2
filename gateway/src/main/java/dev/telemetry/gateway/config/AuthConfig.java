package dev.telemetry.gateway.config;

import dev.telemetry.gateway.otlp.Signal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Who may send (section {@code auth}; without it anyone who reaches a receiver may): bearer tokens (stored as their
 * SHA-256, in the config or in {@code tokensFile}, re-read every {@code reloadInterval}), client certificates of the
 * receivers' client CA by common name, and JWTs checked against a JWKS file. Each credential names its tenant and
 * the signals it may send; the tenant then comes from the credential only.
 */
public record AuthConfig(List<Token> tokens, Path tokensFile, Duration reloadInterval,
                         List<ClientCertificate> clientCertificates, Jwt jwt) {
  public AuthConfig {
    tokens = List.copyOf(tokens);
    clientCertificates = List.copyOf(clientCertificates);
  }

  /** A bearer token: its name (logs, metrics), the hex SHA-256 of the token, its tenant and signals. */
  public record Token(String name, String sha256, String tenant, Set<Signal> signals) {
    public Token {
      signals = Set.copyOf(signals);
    }
  }

  /** A client certificate's subject common name, its tenant and signals. */
  public record ClientCertificate(String commonName, String tenant, Set<Signal> signals) {
    public ClientCertificate {
      signals = Set.copyOf(signals);
    }
  }

  /**
   * JWTs (RS256 or ES256) signed by a key of {@code jwksFile}, issued by {@code issuer} for {@code audience}, within
   * their validity give or take {@code clockSkew}; the tenant is the {@code tenantClaim} claim, the signals those of
   * {@code signalsClaim} (a list; absent: all).
   */
  public record Jwt(Path jwksFile, String issuer, String audience, String tenantClaim, String signalsClaim,
                    Duration clockSkew) {
  }

  static AuthConfig read(ConfigNode n) {
    n.allowOnly("tokens", "tokens_file", "reload_interval", "client_certificates", "jwt");
    List<Token> tokens = tokens(n, "tokens");
    String file = n.has("tokens_file") ? n.nonBlankString("tokens_file") : null;
    Duration reload = n.duration("reload_interval", Duration.ofSeconds(30), Duration.ZERO);
    List<ClientCertificate> certs = new ArrayList<>();
    for (ConfigNode c : n.objectList("client_certificates")) {
      c.allowOnly("common_name", "tenant", "signals");
      String cn = required(c, "common_name", "the certificate's subject CN, e.g. \"checkout.prod\"");
      String tenant = required(c, "tenant", "the tenant this certificate sends as");
      certs.add(new ClientCertificate(cn, tenant, signals(c)));
    }
    Jwt jwt = null;
    if (n.has("jwt")) {
      ConfigNode j = n.object("jwt");
      j.allowOnly("jwks_file", "issuer", "audience", "tenant_claim", "signals_claim", "clock_skew");
      String jwks = required(j, "jwks_file", "a JSON Web Key Set file (the identity provider's keys)");
      String issuer = required(j, "issuer", "the tokens' iss, e.g. \"https://login.example.com/\"");
      String audience = required(j, "audience", "the tokens' aud, e.g. \"telemetry-gateway\"");
      jwt = new Jwt(jwks == null ? null : Path.of(jwks), issuer, audience, j.string("tenant_claim", "tenant"),
          j.has("signals_claim") ? j.nonBlankString("signals_claim") : null,
          j.duration("clock_skew", Duration.ofSeconds(60), Duration.ZERO));
    }
    if (tokens.isEmpty() && file == null && certs.isEmpty() && jwt == null) {
      n.error(null, "no credential is configured: set tokens, tokens_file, client_certificates and/or jwt");
    }
    Jwt j = jwt;
    return n.build(null, () -> new AuthConfig(tokens, file == null ? null : Path.of(file), reload, certs, j));
  }

  /** The {@code tokens} list of a node (the config, or a tokens file), every problem reported at its path. */
  public static List<Token> tokens(ConfigNode n, String key) {
    List<Token> out = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (ConfigNode t : n.objectList(key)) {
      t.allowOnly("name", "sha256", "tenant", "signals");
      String name = required(t, "name", "a name for the token (logs and metrics show it, never the token)");
      if (name != null && !names.add(name)) {
        t.error("name", "\"" + name + "\" is used by another token: names must be unique");
      }
      String hash = required(t, "sha256", "the token's SHA-256 in hex (`printf %s \"$TOKEN\" | sha256sum`)");
      if (hash != null && !hash.matches("[0-9a-fA-F]{64}")) {
        t.error("sha256", "expected 64 hex digits (the SHA-256 of the token, not the token), found "
            + hash.length() + " characters");
        hash = null;
      }
      String tenant = required(t, "tenant", "the tenant this token sends as");
      Set<Signal> signals = signals(t);
      if (name != null && hash != null && tenant != null) {
        out.add(new Token(name, hash.toLowerCase(java.util.Locale.ROOT), tenant, signals));
      }
    }
    return out;
  }

  private static String required(ConfigNode n, String key, String what) {
    if (!n.has(key)) {
      n.error(key, "required: " + what);
      return null;
    }
    return n.nonBlankString(key);
  }

  private static Set<Signal> signals(ConfigNode n) {
    List<String> names = n.stringList("signals", List.of("traces", "metrics", "logs"));
    Set<Signal> out = EnumSet.noneOf(Signal.class);
    for (String s : names) {
      try {
        out.add(Signal.fromId(s));
      } catch (IllegalArgumentException e) {
        n.error("signals", "unknown signal \"" + s + "\" (traces, metrics, logs)");
      }
    }
    return out;
  }
}
