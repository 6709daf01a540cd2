package dev.telemetry.gateway.config;

/**
 * The admin HTTP listener: /metrics, /health/* and the routing API. Loopback by default; it is not meant for the
 * open network. {@code token} (may be null) is the bearer token the {@code /api/} endpoints require; without one
 * they are disabled. {@code samples}: recent requests kept per signal for the console (0: none kept).
 */
public record AdminConfig(HostPort endpoint, String token, java.util.List<AdminToken> tokens, TlsServerConfig tls,
                          int samples) {
  /** Requests kept per signal for the console's "explain a sample" by default. */
  public static final int DEFAULT_SAMPLES = 4;
  public static final AdminConfig DEFAULTS = new AdminConfig(new HostPort("localhost", 8888), null);

  /** What a token may do: {@code read} (GET: views, metrics of the API) or {@code change} (everything). */
  public enum Role { READ, CHANGE }

  /** A named admin token, stored as its SHA-256 (hex), with its role. */
  public record AdminToken(String name, String sha256, Role role) {
  }

  /** One shared token (the {@code change} role), no TLS. */
  public AdminConfig(HostPort endpoint, String token) {
    this(endpoint, token, java.util.List.of(), null, DEFAULT_SAMPLES);
  }

  /** Whether the API is enabled (some token is configured). */
  public boolean apiEnabled() {
    return token != null || !tokens.isEmpty();
  }

  public AdminConfig {
    tokens = java.util.List.copyOf(tokens);
    if (samples < 0 || samples > 32) {
      throw new IllegalArgumentException("samples: must be between 0 and 32");
    }
    if (token != null && token.length() < 16) {
      throw new IllegalArgumentException("token: must be at least 16 characters (generate one with "
          + "`openssl rand -hex 32`)");
    }
  }

  @Override
  public String toString() {
    return "AdminConfig[endpoint=" + endpoint + ", token=" + (token == null ? "none" : "(set)") + ", tokens="
        + tokens.stream().map(t -> t.name() + ":" + t.role()).toList() + ", tls=" + tls + ", samples=" + samples + "]";
  }
}
