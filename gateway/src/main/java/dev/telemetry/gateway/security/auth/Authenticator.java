package dev.telemetry.gateway.security.auth;

import dev.telemetry.gateway.config.AuthConfig;
import dev.telemetry.gateway.config.ConfigException;
import dev.telemetry.gateway.config.ConfigNode;
import dev.telemetry.gateway.logging.RateLimitedLog;
import dev.telemetry.gateway.otlp.Signal;
import dev.telemetry.gateway.pipeline.Authentication;
import dev.telemetry.gateway.pipeline.RequestHeaders;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.security.auth.x500.X500Principal;

/**
 * The receivers' authentication: a bearer token (compared by SHA-256, in constant time against every configured
 * hash), a JWT (when {@code jwt} is configured and the bearer looks like one), or — without an Authorization header —
 * the client certificate's common name (mutual TLS). The credential gives the tenant and the signals it may send.
 * Failures answer 401 / UNAUTHENTICATED (no or a bad credential) or 403 / PERMISSION_DENIED (not allowed), are
 * counted by reason and logged at most once a minute per reason. The tokens file and the JWKS are re-read every
 * reload_interval (an invalid new file keeps the old credentials and is reported).
 */
public final class Authenticator implements Authentication {
  private static final Logger LOG = Logger.getLogger(Authenticator.class.getName());

  private final AuthConfig config;
  private final MeterRegistry registry;
  private final RateLimitedLog failures = new RateLimitedLog(LOG, 60_000);
  private volatile List<AuthConfig.Token> fileTokens = List.of();
  private volatile JwtVerifier jwt;
  private volatile String lastTokensText;
  private volatile String lastJwksText;
  private long timer = -1;
  private long summaryTimer = -1;
  private final java.util.Map<String, Long> failureCounts = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile dev.telemetry.gateway.security.audit.AuditLog audit;

  /** Writes a summary of the last minute's failures (per receiver and reason) to the audit log. */
  public void auditTo(dev.telemetry.gateway.security.audit.AuditLog audit) {
    this.audit = audit;
  }

  public Authenticator(AuthConfig config, MeterRegistry registry) {
    this.config = config;
    this.registry = registry;
  }

  /** Reads the tokens file and the JWKS (the start fails on an invalid one), then re-reads them periodically. */
  public Future<Void> start(Vertx vertx) {
    return vertx.executeBlocking(() -> {
      reload(true);
      return null;
    }, false).onSuccess(v -> {
      summaryTimer = vertx.setPeriodic(60_000, id -> summarize());
      if (!config.reloadInterval().isZero() && (config.tokensFile() != null || config.jwt() != null)) {
        timer = vertx.setPeriodic(config.reloadInterval().toMillis(), id -> vertx.executeBlocking(() -> {
          try {
            reload(false);
          } catch (Exception e) {
            LOG.warning("credentials changed but cannot be used; the previous ones stay: " + e.getMessage());
            Counter.builder("gateway.auth.reloads").tag("result", "rejected").register(registry).increment();
          }
          return null;
        }, true));
      }
    }).mapEmpty();
  }

  public void stop(Vertx vertx) {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (summaryTimer >= 0) {
      vertx.cancelTimer(summaryTimer);
    }
    summarize();
  }

  /** One audit entry for the failures since the last one (aggregated: a flood is one line a minute). */
  void summarize() {
    dev.telemetry.gateway.security.audit.AuditLog a = audit;
    if (a == null || failureCounts.isEmpty()) {
      return;
    }
    java.util.Map<String, Long> counts = new java.util.TreeMap<>();
    for (String key : new java.util.ArrayList<>(failureCounts.keySet())) {
      Long n = failureCounts.remove(key);
      if (n != null) {
        counts.put(key, n);
      }
    }
    a.record("auth", "clients", "authentication failures", "denied", counts.toString());
  }

  private void reload(boolean first) throws Exception {
    if (config.tokensFile() != null) {
      String text = Files.readString(config.tokensFile(), StandardCharsets.UTF_8);
      if (!text.equals(lastTokensText)) {
        ConfigNode root = ConfigNode.literal(new JsonObject(text));
        root.allowOnly("tokens");
        List<AuthConfig.Token> tokens = AuthConfig.tokens(root, "tokens");
        if (!root.problemList().isEmpty()) {
          throw new ConfigException(root.problemList().stream().map(p -> config.tokensFile() + ": " + p).toList());
        }
        fileTokens = tokens;
        lastTokensText = text;
        if (!first) {
          Counter.builder("gateway.auth.reloads").tag("result", "applied").register(registry).increment();
        }
        LOG.info("tokens file " + config.tokensFile() + " loaded: " + tokens.size() + " token(s)");
      }
    }
    if (config.jwt() != null) {
      String text = Files.readString(config.jwt().jwksFile(), StandardCharsets.UTF_8);
      if (!text.equals(lastJwksText)) {
        jwt = JwtVerifier.load(config.jwt());
        lastJwksText = text;
      }
    }
  }

  @Override
  public String authenticate(String receiver, Signal signal, RequestHeaders headers) {
    try {
      Principal p = principal(headers);
      if (!p.signals().contains(signal)) {
        throw new AccessDenied(false, "signal_not_allowed", "credential \"" + p.name() + "\" may not send "
            + signal.id());
      }
      return p.tenant();
    } catch (AccessDenied e) {
      failureCounts.merge(receiver + "/" + e.reason(), 1L, Long::sum);
      Counter.builder("gateway.auth.failures").description("Requests refused by authentication, by reason")
          .tag("receiver", receiver).tag("reason", e.reason()).register(registry).increment();
      failures.log(Level.WARNING, e.reason(), "authentication failed on " + receiver + " (" + e.reason() + "): "
          + e.getMessage() + " (logged at most once a minute per reason; gateway_auth_failures_total counts all)");
      throw e;
    }
  }

  private Principal principal(RequestHeaders headers) {
    String auth = headers.get("authorization");
    if (auth != null) {
      if (auth.length() < 7 || !auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
        throw new AccessDenied(true, "bad_scheme", "use Authorization: Bearer <token>");
      }
      String token = auth.substring(7).trim();
      JwtVerifier j = jwt;
      if (j != null && JwtVerifier.looksLikeJwt(token)) {
        return j.verify(token, System.currentTimeMillis());
      }
      return token(token);
    }
    java.security.cert.Certificate[] chain = headers.peerCertificates();
    if (chain != null && chain.length > 0 && chain[0] instanceof X509Certificate cert) {
      String cn = commonName(cert.getSubjectX500Principal());
      for (AuthConfig.ClientCertificate c : config.clientCertificates()) {
        if (c.commonName().equals(cn)) {
          return new Principal("CN=" + cn, "client_certificate", c.tenant(), c.signals());
        }
      }
      throw new AccessDenied(false, "certificate_not_allowed", "client certificate CN=" + cn
          + " is not mapped to a tenant (auth.client_certificates)");
    }
    throw new AccessDenied(true, "missing", "authentication required: send Authorization: Bearer <token>"
        + (config.clientCertificates().isEmpty() ? "" : " or a client certificate"));
  }

  /** Every configured hash is compared (no early exit), each in constant time. */
  private Principal token(String token) {
    byte[] digest;
    try {
      digest = MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    AuthConfig.Token match = null;
    List<AuthConfig.Token> all = new ArrayList<>(config.tokens());
    all.addAll(fileTokens);
    for (AuthConfig.Token t : all) {
      if (MessageDigest.isEqual(digest, HexFormat.of().parseHex(t.sha256())) && match == null) {
        match = t;
      }
    }
    if (match == null) {
      throw new AccessDenied(true, "invalid_token", "the bearer token is not valid");
    }
    return new Principal(match.name(), "token", match.tenant(), match.signals());
  }

  static String commonName(X500Principal subject) {
    for (String part : subject.getName(X500Principal.RFC2253).split(",")) {
      if (part.startsWith("CN=")) {
        return part.substring(3);
      }
    }
    return subject.getName();
  }
}
