package dev.telemetry.gateway.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Where the routing table lives and how it is reloaded: the file is read at start (the gateway does not start with
 * an invalid table), polled every {@code watchInterval} for changes (zero: only SIGHUP and the admin API reload it),
 * and rewritten when the admin API installs a table. {@code history} versions are kept for rollback.
 */
public record RoutingConfig(Path file, Duration watchInterval, int history) {
  public static final Duration DEFAULT_WATCH_INTERVAL = Duration.ofSeconds(2);
  public static final int DEFAULT_HISTORY = 20;

  public RoutingConfig {
    if (history < 1) {
      throw new IllegalArgumentException("history: keep at least 1 version");
    }
  }
}
