package dev.telemetry.gateway.config;

/** The admin HTTP listener: /metrics and /health/*. Loopback by default; it is not meant for the open network. */
public record AdminConfig(HostPort endpoint) {
  public static final AdminConfig DEFAULTS = new AdminConfig(new HostPort("localhost", 8888));
}
