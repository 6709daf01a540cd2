package dev.telemetry.gateway.config;

/**
 * The admin HTTP listener: /metrics, /health/* and the routing API. Loopback by default; it is not meant for the
 * open network. {@code token} (may be null) is the bearer token the {@code /api/} endpoints require; without one
 * they are disabled.
 */
public record AdminConfig(HostPort endpoint, String token) {
  public static final AdminConfig DEFAULTS = new AdminConfig(new HostPort("localhost", 8888), null);

  public AdminConfig {
    if (token != null && token.length() < 16) {
      throw new IllegalArgumentException("token: must be at least 16 characters (generate one with "
          + "`openssl rand -hex 32`)");
    }
  }

  @Override
  public String toString() {
    return "AdminConfig[endpoint=" + endpoint + ", token=" + (token == null ? "none" : "(set)") + "]";
  }
}
