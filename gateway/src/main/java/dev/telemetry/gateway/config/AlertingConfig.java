package dev.telemetry.gateway.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Where alerts go: every Alertmanager in {@code alertmanagers} (an HA pair gets each alert from the gateway, as
 * Prometheus does), through its v2 API; firing alerts re-sent every {@code resendInterval}; at most
 * {@code maxPending} alerts waiting in the outbox while Alertmanager is down (the newest state of each alert is
 * kept, so this bounds distinct alerts, not resends); state changes appended to {@code historyFile} (JSON lines;
 * null: kept in memory only); {@code externalUrl}: this gateway's address for the alerts' generatorURL.
 */
public record AlertingConfig(List<URI> alertmanagers, Duration resendInterval, Duration timeout, int maxPending,
                             Path historyFile, String externalUrl) {
  public static final Duration DEFAULT_RESEND = Duration.ofMinutes(1);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
  public static final int DEFAULT_MAX_PENDING = 10_000;

  public AlertingConfig {
    alertmanagers = List.copyOf(alertmanagers);
  }

  static AlertingConfig read(ConfigNode n, String adminUrl) {
    n.allowOnly("alertmanagers", "resend_interval", "timeout", "max_pending", "history_file", "external_url");
    int before = n.problems();
    boolean empty = !n.has("alertmanagers") || n.value("alertmanagers") instanceof io.vertx.core.json.JsonArray a
        && a.isEmpty();
    List<URI> urls = empty ? List.of() : n.urls("alertmanagers");
    if (urls.isEmpty() && n.problems() == before) {
      n.error("alertmanagers", "required: one or more Alertmanager base URLs, e.g. [\"http://alertmanager:9093\"]");
    }
    Duration resend = n.duration("resend_interval", DEFAULT_RESEND, Duration.ofSeconds(1));
    Duration timeout = n.duration("timeout", DEFAULT_TIMEOUT, Duration.ofMillis(100));
    int max = (int) n.integer("max_pending", DEFAULT_MAX_PENDING, 1, 1_000_000);
    String history = n.has("history_file") ? n.string("history_file", null) : null;
    String external = n.string("external_url", adminUrl);
    return n.build(null, () -> new AlertingConfig(urls, resend, timeout, max,
        history == null ? null : Path.of(history), external));
  }
}
