package dev.telemetry.gateway.analytics.slo;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One service level objective: an SLI as bad and total event series, an objective (the share of good events, e.g.
 * 99.9), a rolling window for the error budget, and the burn-rate rules that alert on it. Built by
 * {@link SloFileParser}, which validates everything with JSON paths.
 */
public record Slo(String name, String service, String tenant, String description, Sli sli, double objective,
                  Duration window, List<BurnRule> rules, String runbookUrl, String dashboardUrl) {
  public Slo {
    rules = List.copyOf(rules);
  }

  /** The error budget as a ratio: 1 − objective/100. */
  public double budget() {
    return 1 - objective / 100;
  }

  /**
   * Series by Prometheus name and label equalities; {@code le}, when set, selects a histogram's cumulative bucket
   * ({@code <name>_bucket{le=...}}) and {@code name} is the histogram's base name.
   */
  public record Selector(String metric, Map<String, String> labels, Double le) {
    public Selector {
      labels = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(labels)); // sorted: stable rules text
    }
  }

  /**
   * Events counted by {@code total}; bad ones by {@code bad}, or as {@code total − good} when {@code good} is given
   * instead. {@code kind}: availability, latency or ratio (for humans and the API).
   */
  public record Sli(String kind, Selector total, Selector bad, Selector good) {
  }

  /**
   * Fires when the burn rate (bad ratio / budget) exceeds {@code factor} over both the long and the short window
   * (the Google SRE workbook's multiwindow, multi-burn-rate alerts); several rules of one severity are or-ed.
   */
  public record BurnRule(String severity, Duration longWindow, Duration shortWindow, double factor) {
  }

  /** The workbook's policy: page at 14.4× (1h, 5m) and 6× (6h, 30m); ticket at 3× (1d, 2h) and 1× (3d, 6h). */
  public static final List<BurnRule> DEFAULT_RULES = List.of(
      new BurnRule("page", Duration.ofHours(1), Duration.ofMinutes(5), 14.4),
      new BurnRule("page", Duration.ofHours(6), Duration.ofMinutes(30), 6),
      new BurnRule("ticket", Duration.ofDays(1), Duration.ofHours(2), 3),
      new BurnRule("ticket", Duration.ofDays(3), Duration.ofHours(6), 1));
}
